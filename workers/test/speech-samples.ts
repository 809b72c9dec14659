import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Spoken samples with their reference text, for the transcription test and
 * bench/transcription.ts: the recordings Debian's pocketsphinx-testdata ships
 * (LibriVox read speech, spoken playing cards), and voicemails spoken by
 * espeak-ng, encoded as WAV, MP3 and OGG/Opus like real uploads.
 */
export interface SpeechSample {
  /** librivox, cards, espeak-voicemail, or the name of a folder given to the bench. */
  set: string;
  name: string;
  file: string;
  reference: string;
  /** Under what terms the recording may be kept and used: the WER set counts the public-domain ones. */
  licence: 'public domain' | 'BSD (CMU Sphinx)' | 'generated here' | string;
}

export const TESTDATA_DIR = '/usr/share/pocketsphinx/test/data';

/** Sphinx transcription files: "<s> words </s> (file-id)" per line. */
function readSphinxTranscription(file: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = line.match(/^(.*)\(([^)]+)\)\s*$/);
    if (m) out.set(m[2]!.trim(), m[1]!.replace(/<\/?s>/g, ' ').replace(/\s+/g, ' ').trim());
  }
  return out;
}

export function testdataSamples(): SpeechSample[] {
  if (!fs.existsSync(TESTDATA_DIR)) throw new Error(`${TESTDATA_DIR} is missing: install the Debian package pocketsphinx-testdata (scripts/setup.sh test)`);
  const samples: SpeechSample[] = [];
  for (const set of ['librivox', 'cards'] as const) {
    const dir = path.join(TESTDATA_DIR, set);
    const refs = readSphinxTranscription(path.join(dir, set === 'cards' ? 'cards.transcription' : 'transcription'));
    // The LibriVox sentences are public-domain readings; the cards were recorded by CMU (BSD licence, as the package's copyright says).
    const licence = set === 'librivox' ? 'public domain' : 'BSD (CMU Sphinx)';
    for (const [id, reference] of refs) samples.push({ set, name: id, file: path.join(dir, `${id}.wav`), reference, licence });
  }
  return samples;
}

/**
 * A folder of recordings with their reference text, to add to the bench's set: audio files
 * (WAV, MP3, FLAC, OGG) and a `transcription` file in Sphinx's format ("words (file-id)" per
 * line, the id being the file's name without its extension), and a `LICENCE` file whose first
 * line names the recordings' licence (e.g. "public domain"). A file without a reference line is
 * an error, not skipped: a set is measured whole or not at all.
 */
export function folderSamples(dir: string): SpeechSample[] {
  const refsFile = path.join(dir, 'transcription');
  const licenceFile = path.join(dir, 'LICENCE');
  if (!fs.existsSync(refsFile)) throw new Error(`${dir}: no transcription file`);
  if (!fs.existsSync(licenceFile)) throw new Error(`${dir}: no LICENCE file (its first line names the recordings' licence)`);
  const licence = fs.readFileSync(licenceFile, 'utf8').split('\n')[0]!.trim();
  const refs = readSphinxTranscription(refsFile);
  const set = path.basename(path.resolve(dir));
  const audio = fs.readdirSync(dir).filter((f) => /\.(wav|mp3|flac|ogg)$/i.test(f)).sort();
  if (audio.length === 0) throw new Error(`${dir}: no audio files`);
  return audio.map((f) => {
    const name = f.replace(/\.[^.]+$/, '');
    const reference = refs.get(name);
    if (reference === undefined) throw new Error(`${dir}: no reference text for ${f} in its transcription file`);
    return { set, name, file: path.join(dir, f), reference, licence };
  });
}

/** What a caller might leave on a voicemail; plain words, no numbers to spell. */
export const VOICEMAIL_TEXTS = [
  'Hello, this is a test voicemail. Please call me back tomorrow morning about the meeting.',
  'Hi, it is Sarah from the front desk. Your package arrived today and is waiting for you at reception.',
  'Good afternoon, I am calling about the order you placed last week. Please call us back when you have a moment.',
  'This is a reminder that your appointment with the doctor is on Monday afternoon.',
  'Hello, I would like to talk to you about the new project. Give me a call when you are back in the office.',
] as const;

const FORMATS = ['wav', 'mp3', 'ogg'] as const;

/**
 * Speaks the voicemails with espeak-ng's Klatt voice at 160 words a minute with
 * 40 ms between words (the default voice and pace are far
 * harder for pocketsphinx's acoustic model) and encodes them in turn as WAV,
 * MP3 and OGG/Opus with the same ffmpeg the worker decodes with.
 */
export function espeakVoicemails(dir: string, ffmpeg: string): SpeechSample[] {
  fs.mkdirSync(dir, { recursive: true });
  return VOICEMAIL_TEXTS.map((text, i) => {
    const spoken = path.join(dir, `voicemail-${i}.espeak.wav`);
    execFileSync('espeak-ng', ['-v', 'en-us+klatt', '-s', '160', '-g', '4', '-w', spoken, text]);
    const format = FORMATS[i % FORMATS.length]!;
    const file = path.join(dir, `voicemail-${i}.${format}`);
    if (format === 'wav') fs.renameSync(spoken, file);
    else {
      const codec = format === 'mp3' ? ['-c:a', 'libmp3lame', '-b:a', '32k'] : ['-c:a', 'libopus', '-b:a', '24k'];
      execFileSync(ffmpeg, ['-nostdin', '-loglevel', 'error', '-y', '-i', spoken, ...codec, file]);
      fs.rmSync(spoken);
    }
    return { set: 'espeak-voicemail', name: path.basename(file), file, reference: text, licence: 'generated here' };
  });
}
