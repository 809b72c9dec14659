import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestHash } from '@carillon/core';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';

/**
 * Digest authentication at the whole SIP edge, from a raw UDP socket: an
 * unauthenticated INVITE flood leaves no state behind, and a captured
 * authenticated request replayed byte for byte does not get through. One
 * thread (no registrar threads) and short timers, so that the test can see
 * every transaction table and wait for a transaction to end.
 */
const T1 = 20;
let h: EdgeHarness;
let phone: TestPhone;
/** A second edge whose calls table has a ceiling of 0: full from the start. */
let full: EdgeHarness;
beforeAll(async () => {
  [h, full] = await Promise.all([startEdge({ registrarThreads: 0, t1Ms: T1 }), startEdge({ registrarThreads: 0, maxCalls: 0 })]);
  phone = await h.addPhone('101');
  await h.addPhone('102');
}, 60_000);
afterAll(() => Promise.all([h?.stop(), full?.stop()]));

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface RawClient {
  port: number;
  received: string[];
  send(text: string): Promise<void>;
  /** The next message received whose status line matches, waiting for it. */
  next(status: RegExp, from?: number): Promise<string>;
  close(): void;
}

async function rawClient(address = '127.0.0.1', edge = h): Promise<RawClient> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, address, () => r()));
  const received: string[] = [];
  socket.on('message', (m) => received.push(m.toString('latin1')));
  return {
    port: socket.address().port,
    received,
    send: (text) => new Promise<void>((r) => socket.send(Buffer.from(text, 'latin1'), edge.port, '127.0.0.1', () => r())),
    async next(status, from = 0) {
      let found: string | undefined;
      await until(`a response ${status}`, () => (found = received.slice(from).find((m) => status.test(m))) !== undefined);
      return found!;
    },
    close: () => socket.close(),
  };
}

function request(method: 'INVITE' | 'REGISTER', o: { port: number; callId: string; cseq: number; to: string; auth?: string; branch?: string; from?: TestPhone }): string {
  const phone = o.from ?? defaultPhone();
  const uri = method === 'REGISTER' ? 'sip:carillon.test' : `sip:${o.to}@carillon.test`;
  return [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${o.port};branch=${o.branch ?? 'z9hG4bK' + randomBytes(6).toString('hex')};rport`,
    'Max-Forwards: 70',
    `From: <sip:${phone.username}@carillon.test>;tag=${o.callId}`,
    `To: <sip:${method === 'REGISTER' ? phone.username : o.to}@carillon.test>`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq} ${method}`,
    `Contact: <sip:${phone.username}@127.0.0.1:${o.port}>`,
    ...(method === 'REGISTER' ? ['Expires: 600'] : []),
    ...(o.auth ? [`${method === 'REGISTER' ? 'Authorization' : 'Proxy-Authorization'}: ${o.auth}`] : []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** The answer to a challenge, RFC 7616 §3.4.1; without qop (RFC 2069) when `qop` is false. */
function answer(challenge: string, method: string, uri: string, qop: boolean, phone = defaultPhone()): string {
  const header = challenge.split('\r\n').find((l) => /^(WWW|Proxy)-Authenticate:.*algorithm=MD5/i.test(l))!;
  const nonce = /nonce="([^"]+)"/.exec(header)![1]!;
  const ha1 = digestHash('MD5', `${phone.username}:carillon.test:${phone.password}`);
  const ha2 = digestHash('MD5', `${method}:${uri}`);
  const common = `Digest username="${phone.username}", realm="carillon.test", nonce="${nonce}", uri="${uri}", algorithm=MD5`;
  if (!qop) return `${common}, response="${digestHash('MD5', `${ha1}:${nonce}:${ha2}`)}"`;
  const cnonce = randomBytes(4).toString('hex');
  return `${common}, response="${digestHash('MD5', `${ha1}:${nonce}:00000001:${cnonce}:auth:${ha2}`)}", qop=auth, nc=00000001, cnonce="${cnonce}"`;
}

const defaultPhone = () => phone;
const statusOf = (m: string) => Number(/^SIP\/2\.0 ([0-9]{3})/.exec(m)?.[1] ?? -1);
const noTransactions = () => {
  const t = h.edge.transactions.transactionCount;
  return t.server === 0 && t.completed === 0;
};

describe('SIP edge authentication', () => {
  it('answers a few hundred unauthenticated INVITEs without a transaction, at most one 407 each, rate-limited per source', async () => {
    const flood = await rawClient('127.0.0.6');
    const before = h.edge.transactions.statelessCount;
    const seen0 = before.answered + before.dropped;
    // Past the source's burst (twice the default 200 a second).
    const SENT = 600;
    const started = performance.now();
    for (let i = 0; i < SENT; i++) await flood.send(request('INVITE', { port: flood.port, callId: `flood-${i}`, cseq: 1, to: '102' }));
    await until('every flood INVITE seen by the edge', () => h.edge.transactions.statelessCount.answered + h.edge.transactions.statelessCount.dropped - seen0 === SENT);
    // No transaction, no call, nothing kept for any of them.
    expect(h.edge.transactions.transactionCount).toMatchObject({ server: 0, completed: 0 });
    expect(h.edge.calls.activeCalls).toBe(0);
    const dropped = h.edge.transactions.statelessCount.dropped - before.dropped;
    const answered = h.edge.transactions.statelessCount.answered - before.answered;
    // The source's bucket: a burst of 400, then 200 a second.
    expect(answered).toBeGreaterThanOrEqual(400);
    expect(answered).toBeLessThanOrEqual(400 + Math.ceil((200 * (performance.now() - started)) / 1000));
    expect(answered).toBeLessThan(SENT);
    expect(dropped).toBe(SENT - answered);
    await until('the 407s', () => flood.received.length >= answered);
    // A 407 kept in a transaction would be retransmitted from T1 (Timer G, §17.2.1): 15 × T1 covers four of them.
    await new Promise((r) => setTimeout(r, 15 * T1));
    expect(flood.received.every((m) => statusOf(m) === 407 && /^Proxy-Authenticate: Digest /im.test(m))).toBe(true);
    const perCall = new Map<string, number>();
    for (const m of flood.received) {
      const id = /^Call-ID: (.*)$/im.exec(m)![1]!.trim();
      perCall.set(id, (perCall.get(id) ?? 0) + 1);
    }
    expect(Math.max(...perCall.values())).toBe(1);
    expect(perCall.size).toBe(answered);
    flood.close();

    // Another address is still challenged, and its retransmitted INVITE gets a new 407 with the same To tag (§8.2.7).
    const other = await rawClient('127.0.0.7');
    const invite = request('INVITE', { port: other.port, callId: 'other-1', cseq: 1, to: '102' });
    await other.send(invite);
    const first = await other.next(/^SIP\/2\.0 407 /);
    await other.send(invite);
    await until('the second 407', () => other.received.length === 2);
    const toOf = (m: string) => /^To: (.*)$/im.exec(m)![1];
    expect(toOf(other.received[1]!)).toBe(toOf(first));
    expect(h.edge.transactions.transactionCount).toMatchObject({ server: 0, completed: 0 });
    other.close();
  });

  it('refuses a captured REGISTER replayed byte for byte, with qop and without', async () => {
    for (const qop of [true, false]) {
      const c = await rawClient();
      const callId = `reg-replay-${qop}-${randomBytes(3).toString('hex')}`;
      await c.send(request('REGISTER', { port: c.port, callId, cseq: 1, to: phone.username }));
      const challenge = await c.next(/^SIP\/2\.0 401 /);
      const captured = request('REGISTER', { port: c.port, callId, cseq: 2, to: phone.username, auth: answer(challenge, 'REGISTER', 'sip:carillon.test', qop) });
      const n = c.received.length;
      await c.send(captured);
      expect(statusOf(await c.next(/^SIP\/2\.0 /, n))).toBe(200);
      // Once its transaction has ended (a retransmission before then just gets the same 200 again, §17.2.2).
      await until('the REGISTER transaction to end', noTransactions);
      const attacker = await rawClient();
      await attacker.send(captured);
      const replayed = await attacker.next(/^SIP\/2\.0 /);
      expect(statusOf(replayed)).toBe(401);
      expect(replayed).toMatch(/stale=true/);
      c.close();
      attacker.close();
    }
  });

  it('refuses a captured INVITE replayed byte for byte: a fresh challenge, no call', async () => {
    for (const qop of [true, false]) {
      const c = await rawClient();
      const callId = `inv-replay-${qop}-${randomBytes(3).toString('hex')}`;
      await c.send(request('INVITE', { port: c.port, callId, cseq: 1, to: '102' }));
      const challenge = await c.next(/^SIP\/2\.0 407 /);
      const uri = 'sip:102@carillon.test';
      const captured = request('INVITE', { port: c.port, callId, cseq: 2, to: '102', auth: answer(challenge, 'INVITE', uri, qop) });
      const n = c.received.length;
      await c.send(captured);
      // Extension 102 has no phone registered: the call is refused, but it was a call (the request authenticated).
      const final = await c.next(/^SIP\/2\.0 [3-6][0-9]{2} /, n);
      expect(statusOf(final)).not.toBe(407);
      await c.send(`ACK sip:102@carillon.test SIP/2.0\r\n${captured.split('\r\n').filter((l) => /^(Via|From|Call-ID|Max-Forwards):/i.test(l)).join('\r\n')}\r\n${/^To: .*$/im.exec(final)![0]}\r\nCSeq: 2 ACK\r\nContent-Length: 0\r\n\r\n`);
      await until('the call to end', () => h.edge.calls.activeCalls === 0 && noTransactions());
      const ended = h.ended.length;
      const attacker = await rawClient();
      await attacker.send(captured);
      const replayed = await attacker.next(/^SIP\/2\.0 [1-6][0-9]{2} /);
      expect(statusOf(replayed)).toBe(407);
      expect(replayed).toMatch(/stale=true/);
      expect(attacker.received.some((m) => statusOf(m) === 100)).toBe(false);
      expect(h.edge.calls.activeCalls).toBe(0);
      expect(h.ended.length).toBe(ended);
      c.close();
      attacker.close();
    }
  });
});

describe('calls table ceiling', () => {
  it('answers an authenticated INVITE with 503 and Retry-After once the calls table is full', async () => {
    const caller = await full.addPhone('201');
    const c = await rawClient('127.0.0.1', full);
    await c.send(request('INVITE', { port: c.port, callId: 'full-1', cseq: 1, to: '202', from: caller }));
    const challenge = await c.next(/^SIP\/2\.0 407 /);
    const n = c.received.length;
    await c.send(request('INVITE', { port: c.port, callId: 'full-1', cseq: 2, to: '202', from: caller, auth: answer(challenge, 'INVITE', 'sip:202@carillon.test', true, caller) }));
    const refused = await c.next(/^SIP\/2\.0 503 /, n);
    expect(refused).toMatch(/^Retry-After: 5\r$/im);
    expect(full.edge.calls.activeCalls).toBe(0);
    c.close();
  });
});
