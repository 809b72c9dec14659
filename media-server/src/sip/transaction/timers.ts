/**
 * Base values of https://www.rfc-editor.org/rfc/rfc3261#section-17.1.1.1 and
 * Table 4 (A.). Production uses the defaults; tests shorten them through
 * `TransactionLayerSettings.timers`, never by patching a timer.
 */
export interface TimerSettings {
  /** RTT estimate. */
  T1: number;
  /** Longest retransmit interval for non-INVITE requests and INVITE responses. */
  T2: number;
  /** Longest time a message stays in the network. */
  T4: number;
  /** Timer D on unreliable transports: "at least 32 seconds". */
  D: number;
  /** How long an INVITE server transaction waits for the TU before sending 100 Trying itself (§17.2.1). */
  Trying: number;
}

export const DEFAULT_TIMER_SETTINGS: Readonly<TimerSettings> = {
  T1: 500,
  T2: 4_000,
  T4: 5_000,
  D: 32_000,
  Trying: 200,
};

/** The transaction timers: RFC 3261 letters, L and M from RFC 6026, and the 100 Trying delay. */
export type TimerName = 'A' | 'B' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M' | 'Trying';

export type TimerDurations = Readonly<Record<TimerName, number>>;

/**
 * Every timer's (initial) duration for one transaction. A, E and G double on
 * each firing (E and G capped at T2); on reliable transports they are never
 * started and D, I, J, K are zero.
 */
export function timerDurations(settings: TimerSettings, reliable: boolean): TimerDurations {
  const { T1, T4 } = settings;
  return {
    A: T1, // https://www.rfc-editor.org/rfc/rfc3261#section-17.1.1.2
    B: 64 * T1,
    D: reliable ? 0 : settings.D,
    E: T1, // https://www.rfc-editor.org/rfc/rfc3261#section-17.1.2.2
    F: 64 * T1,
    G: T1, // https://www.rfc-editor.org/rfc/rfc3261#section-17.2.1
    H: 64 * T1,
    I: reliable ? 0 : T4,
    J: reliable ? 0 : 64 * T1, // https://www.rfc-editor.org/rfc/rfc3261#section-17.2.2
    K: reliable ? 0 : T4,
    L: 64 * T1, // https://www.rfc-editor.org/rfc/rfc6026#section-8.7
    M: 64 * T1, // https://www.rfc-editor.org/rfc/rfc6026#section-8.4
    Trying: settings.Trying,
  };
}

export function resolveTimerSettings(overrides: Partial<TimerSettings> = {}): TimerSettings {
  const settings = { ...DEFAULT_TIMER_SETTINGS, ...overrides };
  for (const [name, value] of Object.entries(settings)) {
    if (!(typeof value === 'number' && Number.isFinite(value) && value > 0))
      throw new TypeError(`timer ${name} must be a positive number of milliseconds`);
  }
  if (settings.T2 < settings.T1) throw new TypeError('timer T2 must not be shorter than T1');
  return settings;
}
