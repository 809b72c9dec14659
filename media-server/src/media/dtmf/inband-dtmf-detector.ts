/**
 * In-band DTMF detection on 8 kHz PCM with the Goertzel algorithm, for
 * callers whose equipment sends tones in the audio instead of RFC 4733. Each
 * 20 ms block (160 samples, 50 Hz resolution, enough for the 73 Hz spacing of
 * the DTMF grid) is checked for one strong row and one strong column tone that
 * together carry most of the block's energy, within the twist limits of
 * ITU-T Q.24. Speech rarely passes all of that for two blocks in a row, which
 * a digit must (40 ms, the Q.24 minimum tone length); it is reported once when
 * the tone stops, with its duration.
 */
import { blockEnergy, goertzelPower } from '../audio/goertzel.ts';
import { DTMF_COLUMN_HZ, DTMF_ROW_HZ, dtmfDigitAt, type DtmfDigit } from './dtmf-digits.ts';
import type { DtmfDigitListener } from './telephone-event-receiver.ts';

const SAMPLE_RATE = 8000;
const BLOCK = 160;
const BLOCK_MS = (BLOCK * 1000) / SAMPLE_RATE;
/** Below about −30 dBm0 a tone is not a key press (Q.24 accepts down to about −26). */
const MIN_TONE_POWER = ((1000 * BLOCK) / 2) ** 2;
const MAX_TWIST = 10 ** (8 / 10);
const MAX_REVERSE_TWIST = 10 ** (4 / 10);
/** A tone must beat every other frequency of its group by this factor (6 dB). */
const GROUP_DOMINANCE = 4;
/** Share of the block's energy the two tones must carry. */
const MIN_TONE_SHARE = 0.8;

export class InbandDtmfDetector {
  private readonly onDigit: DtmfDigitListener;
  private readonly block = new Int16Array(BLOCK);
  private filled = 0;
  private candidate: DtmfDigit | null = null;
  private candidateBlocks = 0;
  private current: DtmfDigit | null = null;
  private currentBlocks = 0;
  private readonly rowPower = new Float64Array(4);
  private readonly columnPower = new Float64Array(4);

  constructor(onDigit: DtmfDigitListener) {
    this.onDigit = onDigit;
  }

  /** Feeds any number of samples; blocks are cut internally. */
  process(pcm: Int16Array, count = pcm.length): void {
    let i = 0;
    while (i < count) {
      const n = Math.min(BLOCK - this.filled, count - i);
      this.block.set(pcm.subarray(i, i + n), this.filled);
      this.filled += n;
      i += n;
      if (this.filled === BLOCK) {
        this.filled = 0;
        this.step(this.classify());
      }
    }
  }

  private classify(): DtmfDigit | null {
    const row = strongest(this.block, DTMF_ROW_HZ, this.rowPower);
    const column = strongest(this.block, DTMF_COLUMN_HZ, this.columnPower);
    if (row < 0 || column < 0) return null;
    const r = this.rowPower[row]!;
    const c = this.columnPower[column]!;
    if (r < MIN_TONE_POWER || c < MIN_TONE_POWER) return null;
    // Twist: the column tone may be up to 8 dB above the row, or 4 dB below it.
    if (c > r * MAX_TWIST || r > c * MAX_REVERSE_TWIST) return null;
    // Goertzel power of a full-scale block sine is (A·N/2)², block energy A²·N/2: scale to compare.
    const toneEnergy = ((r + c) * 2) / BLOCK;
    if (toneEnergy < MIN_TONE_SHARE * blockEnergy(this.block)) return null;
    return dtmfDigitAt(row, column);
  }

  private step(digit: DtmfDigit | null): void {
    if (this.current !== null) {
      if (digit === this.current) {
        this.currentBlocks++;
        return;
      }
      this.onDigit(this.current, this.currentBlocks * BLOCK_MS);
      this.current = null;
    }
    if (digit !== null && digit === this.candidate) {
      this.candidateBlocks++;
    } else {
      this.candidate = digit;
      this.candidateBlocks = digit === null ? 0 : 1;
    }
    if (this.candidate !== null && this.candidateBlocks >= 2) {
      this.current = this.candidate;
      this.currentBlocks = this.candidateBlocks;
      this.candidate = null;
      this.candidateBlocks = 0;
    }
  }
}

/** Index of the group's dominant frequency, or -1 if none stands out. */
function strongest(block: Int16Array, frequencies: readonly number[], powers: Float64Array): number {
  let best = -1;
  for (let i = 0; i < frequencies.length; i++) {
    powers[i] = goertzelPower(block, frequencies[i]!, SAMPLE_RATE, 0, BLOCK);
    if (best < 0 || powers[i]! > powers[best]!) best = i;
  }
  for (let i = 0; i < frequencies.length; i++) {
    if (i !== best && powers[i]! * GROUP_DOMINANCE > powers[best]!) return -1;
  }
  return best;
}
