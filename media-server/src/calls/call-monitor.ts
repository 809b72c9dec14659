import type { MonitorMode } from '@carillon/domain';

/**
 * Call monitoring (MON-01), the rules of a monitored call's media: while a
 * monitor is on it, the call's two legs and the monitor's leg are members of
 * one room (media/mixer/room.ts), and each member hears what its mode says.
 * The monitor's leg is 'm'; the monitored user (the agent) is on one side of
 * the call, the other party on the other.
 */
export const MONITOR_LEG = 'm';

/**
 * Keys the monitor presses during the call to change mode, as Asterisk's
 * ChanSpy does (4 listen, 5 whisper, 6 barge), and 7 to take the call over.
 */
export const MONITOR_MODE_DIGITS: Readonly<Record<string, MonitorMode>> = { '4': 'listen', '5': 'whisper', '6': 'barge', '7': 'takeover' };

/** Whom each leg hears, by leg id; null: everyone else in the room. */
export type Hearing = Record<'a' | 'b' | typeof MONITOR_LEG, string[] | null>;

/**
 * - listen: the monitor hears both parties; the parties hear only each other.
 * - whisper: the agent hears the other party and the monitor; the other party hears only the agent; the monitor hears both.
 * - barge: everyone hears everyone (a three-way call).
 * Take over is no hearing rule: the agent leaves, and the monitor takes its side of the two-party bridge.
 */
export function hearingFor(mode: Exclude<MonitorMode, 'takeover'>, agentSide: 'a' | 'b'): Hearing {
  const other = agentSide === 'a' ? 'b' : 'a';
  const rules: Hearing = { a: null, b: null, [MONITOR_LEG]: null };
  if (mode === 'listen') {
    rules[agentSide] = [other];
    rules[other] = [agentSide];
  } else if (mode === 'whisper') {
    rules[other] = [agentSide];
  }
  return rules;
}
