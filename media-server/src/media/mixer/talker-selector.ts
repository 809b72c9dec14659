/**
 * Which members of a room are its talkers, chosen again on every 20 ms tick
 * from how loud each one is (audio-level.ts), with hysteresis so that the
 * set does not flap between speakers who are about as loud, or on a cough.
 *
 * The rule, in "loudness" (127 − the RFC 6464 level, so louder is larger):
 * 1. Each tick a member's loudness is that of the loudest packet it sent
 *    since the previous tick; a member that sent none keeps its last value
 *    for HOLD_TICKS (jitter bunches packets), then counts as silent.
 * 2. It is smoothed: smooth += (loudness − smooth) / 4 each tick (about an
 *    80 ms time constant). A member is *active* while smooth ≥ ACTIVE_LOUDNESS
 *    (louder than −55 dBov). From silence, a steady −20 dBov voice is active
 *    after 4 ticks; a single loud packet never is.
 * 3. A talker keeps its place until it has been inactive for HANGOVER_TICKS
 *    (500 ms): pauses between words do not lose it, unless a challenger
 *    takes it meanwhile (rule 5: a pausing talker is the quietest).
 * 4. A free place goes at once to the loudest active member.
 * 5. When every place is taken, the loudest active member who is not a talker
 *    (the challenger) takes the place of the quietest talker only after it has
 *    been louder than that talker by SWAP_MARGIN_DB on SWAP_TICKS consecutive
 *    ticks (200 ms); a tick where it is not, or where another member is the
 *    loudest challenger, starts the count again.
 */

export const DEFAULT_TALKERS = 3;
/** The most talkers a room may ask for: each costs a decode, an N−1 mix and an encode per tick. */
export const MAX_TALKERS = 16;
export const HOLD_TICKS = 2;
/** −55 dBov. */
export const ACTIVE_LOUDNESS = 127 - 55;
export const HANGOVER_TICKS = 25;
export const SWAP_MARGIN_DB = 6;
export const SWAP_TICKS = 10;
const SMOOTHING = 1 / 4;

/** The per-member state the selector reads and keeps. */
export interface TalkerCandidate {
  /** Loudness of the loudest packet since the last tick (127 − level), or -1 for none. */
  heard: number;
  /** The last loudness heard, held while packets are late. */
  lastHeard: number;
  /** Ticks since a packet was last heard. */
  missedTicks: number;
  smooth: number;
  /** Consecutive ticks a talker has been inactive. */
  quietTicks: number;
  selected: boolean;
}

export function newTalkerCandidate(): TalkerCandidate {
  return { heard: -1, lastHeard: 0, missedTicks: 0, smooth: 0, quietTicks: 0, selected: false };
}

export class TalkerSelector<C extends TalkerCandidate> {
  /** The talkers, in the order they were chosen. */
  readonly talkers: C[] = [];
  private maxTalkers: number;
  private challenger: C | null = null;
  private challengeTicks = 0;
  /** The loudest active non-talkers of this tick, loudest first (at most maxTalkers). */
  private readonly ranked: C[] = [];

  constructor(maxTalkers = DEFAULT_TALKERS) {
    this.maxTalkers = checkTalkers(maxTalkers);
  }

  get capacity(): number {
    return this.maxTalkers;
  }

  /** Advances one tick over every member; returns whether the talkers changed. */
  tick(members: Iterable<C>): boolean {
    const ranked = this.ranked;
    ranked.length = 0;
    for (const m of members) {
      let loudness: number;
      if (m.heard >= 0) {
        loudness = m.lastHeard = m.heard;
        m.missedTicks = 0;
      } else {
        loudness = ++m.missedTicks <= HOLD_TICKS ? m.lastHeard : 0;
      }
      m.heard = -1;
      m.smooth += (loudness - m.smooth) * SMOOTHING;
      const active = m.smooth >= ACTIVE_LOUDNESS;
      if (m.selected) {
        m.quietTicks = active ? 0 : m.quietTicks + 1;
      } else if (active) {
        rankInto(ranked, m, this.maxTalkers);
      }
    }
    let changed = false;
    for (let i = this.talkers.length - 1; i >= 0; i--) {
      const t = this.talkers[i]!;
      if (t.quietTicks >= HANGOVER_TICKS) {
        this.drop(i);
        changed = true;
      }
    }
    let next = 0;
    while (this.talkers.length < this.maxTalkers && next < ranked.length) {
      this.add(ranked[next++]!);
      changed = true;
    }
    const challenger = next < ranked.length ? ranked[next]! : null;
    if (challenger === null || this.talkers.length < this.maxTalkers) {
      this.challenger = null;
      this.challengeTicks = 0;
      return changed;
    }
    let quietest = 0;
    for (let i = 1; i < this.talkers.length; i++) if (this.talkers[i]!.smooth < this.talkers[quietest]!.smooth) quietest = i;
    if (challenger !== this.challenger) {
      this.challenger = challenger;
      this.challengeTicks = 0;
    }
    if (challenger.smooth >= this.talkers[quietest]!.smooth + SWAP_MARGIN_DB) this.challengeTicks++;
    else this.challengeTicks = 0;
    if (this.challengeTicks >= SWAP_TICKS) {
      this.drop(quietest);
      this.add(challenger);
      this.challenger = null;
      this.challengeTicks = 0;
      changed = true;
    }
    return changed;
  }

  /** A member leaving the room: its place is free at the next tick. */
  remove(member: C): boolean {
    if (this.challenger === member) this.challenger = null;
    const i = this.talkers.indexOf(member);
    if (i < 0) return false;
    this.drop(i);
    return true;
  }

  private add(member: C): void {
    member.selected = true;
    member.quietTicks = 0;
    this.talkers.push(member);
  }

  private drop(index: number): void {
    const [member] = this.talkers.splice(index, 1);
    member!.selected = false;
  }
}

export function checkTalkers(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_TALKERS) throw new RangeError(`a room has 1 to ${MAX_TALKERS} talkers, not ${n}`);
  return n;
}

/** Inserts `m` into the loudest-first list `ranked`, kept to `limit` + 1 entries (the places and one challenger). */
function rankInto<C extends TalkerCandidate>(ranked: C[], m: C, limit: number): void {
  let i = ranked.length;
  while (i > 0 && ranked[i - 1]!.smooth < m.smooth) i--;
  if (i > limit) return;
  ranked.splice(i, 0, m);
  if (ranked.length > limit + 1) ranked.pop();
}
