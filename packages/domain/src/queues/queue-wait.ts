/**
 * The expected wait a queue tells its callers ("you are caller 3; expected wait 2 minutes"), from a
 * running estimate of how long its calls last once answered. Pure: the application keeps the estimate
 * (shared by the nodes) and counts the members who take calls.
 */

/** How much one new call moves the running handle time: an exponentially weighted mean, recent calls first. */
export const HANDLE_TIME_WEIGHT = 0.2;

/** The running handle time after a call of `sampleMs` (the first call sets it). */
export function nextHandleTimeMs(previousMs: number | null, sampleMs: number): number {
  const sample = Math.max(0, sampleMs);
  return Math.round(previousMs === null ? sample : previousMs + HANDLE_TIME_WEIGHT * (sample - previousMs));
}

/**
 * Seconds until a caller at `position` (1: next) is answered: the callers ahead of it and itself are
 * served `agents` at a time, each round lasting the handle time. Null without an estimate yet (no call
 * answered) or without anyone taking calls: the caller is then told only its place.
 */
export function estimatedWaitSeconds(input: { position: number; handleTimeMs: number | null; agents: number }): number | null {
  if (input.handleTimeMs === null || input.agents <= 0 || input.position < 1) return null;
  return Math.ceil(input.position / input.agents) * Math.round(input.handleTimeMs / 1000);
}

/** The wait as it is spoken: whole minutes, at least one. */
export function spokenWaitMinutes(seconds: number): number {
  return Math.max(1, Math.round(seconds / 60));
}
