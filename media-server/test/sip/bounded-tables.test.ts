import { afterEach, describe, expect, it } from 'vitest';
import { BoundedMap } from '../../src/cache/bounded-map.ts';
import { LoadingCache } from '../../src/cache/loading-cache.ts';
import { AuthThrottle } from '../../src/registrar/auth-throttle.ts';
import { SourceRateLimit } from '../../src/sip/auth/source-rate-limit.ts';
import type { SipMessage } from '../../src/sip/message/index.ts';
import { TransactionLayer } from '../../src/sip/transaction/index.ts';
import { eventually } from './support/inbox.ts';
import { UdpPeer } from './support/peers.ts';
import { rawRequest } from './support/requests.ts';
import { FAST_TIMERS, quietLogger, startStack } from './support/stack.ts';

/** Every table a remote peer can grow has a ceiling, and a clear policy once it is reached. */
const running: { stop(): unknown }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

describe('bounded tables', () => {
  it('BoundedMap drops the oldest entry when full, and a re-set key becomes the youngest', () => {
    const m = new BoundedMap<string, number>(3);
    for (const k of ['a', 'b', 'c']) m.set(k, 1);
    m.set('a', 2);
    m.set('d', 1);
    expect([...m.keys()]).toEqual(['c', 'a', 'd']);
    for (let i = 0; i < 1000; i++) m.set(`flood${i}`, i);
    expect(m.size).toBe(3);
  });

  it('the per-source rate limit allows a burst, then its rate, and remembers a bounded number of sources', () => {
    const limit = new SourceRateLimit({ perSecond: 10, burst: 5, maxSources: 100 });
    const at0 = Array.from({ length: 8 }, () => limit.take('192.0.2.1', 0));
    expect(at0.filter(Boolean)).toHaveLength(5);
    expect(limit.take('192.0.2.1', 50)).toBe(false);
    expect(limit.take('192.0.2.1', 100)).toBe(true);
    expect(limit.take('192.0.2.2', 100)).toBe(true);
    for (let i = 0; i < 10_000; i++) limit.take(`10.0.${i >> 8}.${i & 255}`, 200);
    expect(limit.size).toBe(100);
  });

  it('the authentication throttle keeps at most its ceiling of windows', () => {
    const throttle = new AuthThrottle(3, 60_000, 1000);
    for (let i = 0; i < 5000; i++) throttle.admit(`10.1.${i >> 8}.${i & 255}`, `user${i}`);
    expect(throttle.size).toBe(1000);
    // The newest pairs are still counted.
    for (let i = 0; i < 2; i++) throttle.admit('10.1.19.135', 'user4999');
    expect(throttle.isThrottled('10.1.19.135', 'user4999')).toBe(true);
  });

  it('the credential cache keeps at most its ceiling of entries', async () => {
    let loads = 0;
    const cache = new LoadingCache<string>(async (k) => (loads++, k === 'known' ? 'v' : null), 30_000, 5_000, 100);
    await cache.get('known');
    for (let i = 0; i < 99; i++) await cache.get(`unknown${i}`);
    await cache.get('known');
    expect(loads).toBe(100);
    // One more unknown name pushes the oldest entry ("known") out.
    await cache.get('unknown-more');
    await cache.get('known');
    expect(loads).toBe(102);
  });

  it('the transaction layer answers 503 with Retry-After, statelessly, when its server table is full', async () => {
    const stack = await startStack();
    running.push(stack);
    // A second layer on the same transport, with a ceiling of 3 server transactions.
    stack.layer.close();
    const layer = new TransactionLayer(stack.transport, { via: { host: '127.0.0.1', ports: stack.ports }, timers: FAST_TIMERS, logger: quietLogger, maxServerTransactions: 3 });
    running.push({ stop: () => layer.close() });
    const seen: string[] = [];
    layer.onRequest((req) => seen.push(req.callId));
    const peer = await UdpPeer.open();
    running.push({ stop: () => peer.close() });
    for (let i = 0; i < 5; i++) await peer.send(rawRequest('OPTIONS', { port: peer.port, callId: `full${i}` }), stack.ports.UDP!);
    const refused = (m: SipMessage) => m.kind === 'response' && m.status === 503;
    await eventually(() => peer.inbox.all(refused).length === 2, 10_000, "two 503s");
    expect(seen).toHaveLength(3);
    expect(peer.inbox.all(refused).every((m) => m.kind === 'response' && m.get('retry-after') === '5')).toBe(true);
    expect(layer.transactionCount.server + layer.transactionCount.completed).toBe(3);
    expect(layer.statelessCount.full).toBe(2);
  });
});
