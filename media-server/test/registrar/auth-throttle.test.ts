import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { ADDRESS_CEILING_FACTOR, AuthThrottle, sharedThrottle, type AuthSlot, type FailureThrottle } from '../../src/registrar/auth-throttle.ts';

const WINDOW_MS = 60_000;

/** What the registrar does with one request: a slot, the (async) credential lookup, then the password's verdict. */
async function checkPassword(throttle: FailureThrottle, address: string, username: string, right: boolean): Promise<'refused' | 'checked'> {
  const attempt = throttle.admit(address, username);
  if (!attempt) return 'refused';
  // The lookup: the other requests run meanwhile, as they do on the database or the main thread.
  await nextTurn();
  await nextTurn();
  if (right) attempt.succeeded();
  return 'checked';
}

describe('AuthThrottle', () => {
  it('checks at most `limit` passwords of a pair however many guesses arrive at once', async () => {
    const throttle = new AuthThrottle(10);
    const verdicts = await Promise.all(Array.from({ length: 200 }, () => checkPassword(throttle, '192.0.2.1', 'alice', false)));
    expect(verdicts.filter((v) => v === 'checked')).toHaveLength(10);
    expect(throttle.isThrottled('192.0.2.1', 'alice')).toBe(true);
    // The address is far below its ceiling: a colleague behind it is still challenged and checked.
    expect(throttle.isThrottled('192.0.2.1', null)).toBe(false);
    expect(await checkPassword(throttle, '192.0.2.1', 'bob', true)).toBe('checked');
  });

  it('gives the slot back when the password is right, once', async () => {
    const throttle = new AuthThrottle(3);
    for (let i = 0; i < 2; i++) expect(await checkPassword(throttle, '192.0.2.2', 'alice', false)).toBe('checked');
    // A phone that registers right keeps doing so: its checks do not use up the window.
    for (let i = 0; i < 20; i++) expect(await checkPassword(throttle, '192.0.2.2', 'alice', true)).toBe('checked');
    const attempt = throttle.admit('192.0.2.2', 'alice')!;
    expect(throttle.isThrottled('192.0.2.2', 'alice')).toBe(true);
    attempt.succeeded();
    attempt.succeeded();
    expect(throttle.isThrottled('192.0.2.2', 'alice')).toBe(false);
    expect(throttle.admit('192.0.2.2', 'alice')).not.toBeNull();
    expect(throttle.admit('192.0.2.2', 'alice')).toBeNull();
  });

  it('counts in fixed windows: a full pair is admitted again when its window ends', () => {
    const throttle = new AuthThrottle(2, WINDOW_MS);
    const t0 = 1_000_000;
    expect(throttle.admit('192.0.2.3', 'alice', t0)).not.toBeNull();
    expect(throttle.admit('192.0.2.3', 'alice', t0 + WINDOW_MS - 1)).not.toBeNull();
    expect(throttle.admit('192.0.2.3', 'alice', t0 + WINDOW_MS - 1)).toBeNull();
    expect(throttle.isThrottled('192.0.2.3', 'alice', t0 + WINDOW_MS - 1)).toBe(true);
    expect(throttle.isThrottled('192.0.2.3', 'alice', t0 + WINDOW_MS)).toBe(false);
    expect(throttle.admit('192.0.2.3', 'alice', t0 + WINDOW_MS)).not.toBeNull();
    expect(throttle.admit('192.0.2.3', 'alice', t0 + WINDOW_MS + 1)).not.toBeNull();
    expect(throttle.admit('192.0.2.3', 'alice', t0 + WINDOW_MS + 2)).toBeNull();
    // A slot taken in the last window and given back in this one frees nothing here.
    throttle.refund('192.0.2.3', 'alice', t0 + WINDOW_MS - 1, t0 + WINDOW_MS + 3);
    expect(throttle.isThrottled('192.0.2.3', 'alice', t0 + WINDOW_MS + 3)).toBe(true);
  });

  it('refuses an address at its ceiling, over all its users, however many guesses arrive at once', async () => {
    const limit = 2;
    const ceiling = limit * ADDRESS_CEILING_FACTOR;
    const throttle = new AuthThrottle(limit);
    const verdicts = await Promise.all(Array.from({ length: 100 }, (_, i) => checkPassword(throttle, '192.0.2.77', `user${i}`, false)));
    expect(verdicts.filter((v) => v === 'checked')).toHaveLength(ceiling);
    expect(throttle.isThrottled('192.0.2.77', 'someone-else')).toBe(true);
    expect(throttle.isThrottled('192.0.2.77', null)).toBe(true);
    expect(throttle.admit('192.0.2.77', 'someone-else')).toBeNull();
    expect(throttle.isThrottled('192.0.2.78', 'user1')).toBe(false);
  });

  it('a right password frees its slot at the address ceiling too', () => {
    const throttle = new AuthThrottle(1);
    const attempts = Array.from({ length: ADDRESS_CEILING_FACTOR }, (_, i) => throttle.admit('192.0.2.79', `user${i}`)!);
    expect(throttle.isThrottled('192.0.2.79', null)).toBe(true);
    attempts[0]!.succeeded();
    expect(throttle.isThrottled('192.0.2.79', null)).toBe(false);
  });
});

describe('sharedThrottle (registrar threads)', () => {
  /** Copies that tell each other of their slots, as the worker channel does: later, in order. */
  function copies(count: number, limit: number) {
    const locals = Array.from({ length: count }, () => new AuthThrottle(limit));
    const inFlight: (() => void)[] = [];
    const throttles = locals.map((local, i) =>
      sharedThrottle(local, {
        taken: (slot: AuthSlot) => inFlight.push(() => locals.forEach((other, j) => j !== i && other.count(slot.address, slot.username, slot.at))),
        givenBack: (slot: AuthSlot) => inFlight.push(() => locals.forEach((other, j) => j !== i && other.refund(slot.address, slot.username, slot.at))),
      }),
    );
    const deliver = () => inFlight.splice(0).forEach((tell) => tell());
    return { locals, throttles, deliver };
  }

  it('counts a slot taken by one copy in every other once told', () => {
    const { throttles, deliver } = copies(3, 2);
    expect(throttles[0]!.admit('192.0.2.5', 'alice')).not.toBeNull();
    expect(throttles[1]!.admit('192.0.2.5', 'alice')).not.toBeNull();
    deliver();
    for (const t of throttles) expect(t.admit('192.0.2.5', 'alice')).toBeNull();
  });

  it('gives a slot back in every copy when the password was right', () => {
    const { throttles, deliver } = copies(2, 1);
    // The other copy hears of the slot a little later (as the worker channel delivers): its window
    // must still hold the slot, or the refund would be refused there.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(1_000_000);
      const attempt = throttles[0]!.admit('192.0.2.6', 'alice')!;
      vi.setSystemTime(1_000_007);
      deliver();
      expect(throttles[1]!.isThrottled('192.0.2.6', 'alice')).toBe(true);
      attempt.succeeded();
      attempt.succeeded();
      deliver();
      expect(throttles[1]!.admit('192.0.2.6', 'alice')).not.toBeNull();
      // Given back once: copy 1 took the freed slot, so copy 0 has none left.
      deliver();
      expect(throttles[0]!.admit('192.0.2.6', 'alice')).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });

  it('checks at most copies × limit passwords of a pair when every copy is flooded before any hears of the others', async () => {
    const limit = 5;
    const { throttles, deliver } = copies(3, limit);
    const verdicts = await Promise.all(Array.from({ length: 300 }, (_, i) => checkPassword(throttles[i % 3]!, '192.0.2.7', 'alice', false)));
    expect(verdicts.filter((v) => v === 'checked')).toHaveLength(3 * limit);
    deliver();
    for (const t of throttles) expect(t.isThrottled('192.0.2.7', 'alice')).toBe(true);
  });
});
