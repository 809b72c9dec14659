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
});
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
    // Past the source's burst (twice the default 200 a second): at least 600, and on until the edge has dropped
    // some (on a busy machine sending takes longer, and the bucket refills meanwhile).
    let SENT = 0;
    const started = performance.now();
    const seen = () => h.edge.transactions.statelessCount.answered + h.edge.transactions.statelessCount.dropped - seen0;
    while (SENT < 600 || (h.edge.transactions.statelessCount.dropped === before.dropped && SENT < 20_000)) {
      for (let i = 0; i < 100; i++, SENT++) await flood.send(request('INVITE', { port: flood.port, callId: `flood-${SENT}`, cseq: 1, to: '102' }));
      if (SENT >= 600) await until('the flood INVITEs sent so far seen by the edge', () => seen() === SENT);
    }
    await until('every flood INVITE seen by the edge', () => seen() === SENT);
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

  it('answers a retransmitted request with the same challenge, nonce included, and a new request with a new nonce', async () => {
    for (const method of ['REGISTER', 'INVITE'] as const) {
      const c = await rawClient();
      const callId = `retransmit-${method}-${randomBytes(3).toString('hex')}`;
      const original = request(method, { port: c.port, callId, cseq: 1, to: method === 'REGISTER' ? phone.username : '102', branch: `z9hG4bK${callId}` });
      await c.send(original);
      const first = await c.next(/^SIP\/2\.0 40[17] /);
      // The same request again (a retransmission: same branch), as a client does when our answer is slow (§17.1.2.2).
      const afterFirst = c.received.length;
      await c.send(original);
      const second = await c.next(/^SIP\/2\.0 40[17] /, afterFirst);
      expect(second).toBe(first);
      // A new request (new branch) gets a challenge of its own.
      const afterSecond = c.received.length;
      await c.send(request(method, { port: c.port, callId, cseq: 2, to: method === 'REGISTER' ? phone.username : '102' }));
      const third = await c.next(/^SIP\/2\.0 40[17] /, afterSecond);
      const nonceOf = (m: string) => /nonce="([^"]+)"/.exec(m)![1];
      expect(nonceOf(third)).not.toBe(nonceOf(first));
      c.close();
    }
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

  it('checks at most the limit of INVITE passwords from a user at an address, however many guesses arrive at once', async () => {
    // The edge's limit: SIP_AUTH_FAILURES_PER_MINUTE, 30 in the harness.
    const LIMIT = 30;
    const GUESSES = 100;
    // A phone whose credentials the edge has not cached yet: the first guesses wait for the database lookup.
    const victim = await h.addPhone('103');
    const guesser = await rawClient('127.0.0.7');
    const callIds = Array.from({ length: GUESSES }, (_, i) => `guess-${i}-${randomBytes(3).toString('hex')}`);
    const challenges = new Map<string, string>();
    for (const callId of callIds) await guesser.send(request('INVITE', { port: guesser.port, callId, cseq: 1, to: '102', from: victim }));
    await until('every challenge', () => {
      for (const m of guesser.received) if (statusOf(m) === 407) challenges.set(/^Call-ID: (.*)$/im.exec(m)![1]!, m);
      return challenges.size === GUESSES;
    });
    // Every guess is sent at once, before any is answered.
    const n = guesser.received.length;
    const wrong = { ...victim, password: 'guess' };
    const guesses = callIds.map((callId) => request('INVITE', { port: guesser.port, callId, cseq: 2, to: '102', from: victim, auth: answer(challenges.get(callId)!, 'INVITE', 'sip:102@carillon.test', true, wrong) }));
    await Promise.all(guesses.map((g) => guesser.send(g)));
    // One final answer per guess (a 403 unacknowledged is retransmitted: counted once per call).
    const finals = new Map<string, string>();
    await until('every guess answered', () => {
      for (const m of guesser.received.slice(n)) if (statusOf(m) >= 300) finals.set(/^Call-ID: (.*)$/im.exec(m)![1]!, /^SIP\/2\.0 (.*)$/m.exec(m)![1]!);
      return finals.size === GUESSES;
    });
    const answers = [...finals.values()];
    expect(answers.filter((a) => a === '403 Forbidden')).toHaveLength(LIMIT);
    expect(answers.filter((a) => a === '403 Too Many Failed Attempts')).toHaveLength(GUESSES - LIMIT);
    // The address is below its ceiling: a first INVITE from it is still challenged.
    const probe = `after-guesses-${randomBytes(3).toString('hex')}`;
    await guesser.send(request('INVITE', { port: guesser.port, callId: probe, cseq: 1, to: '102' }));
    // Matched by Call-ID: the refused guesses' 403s are still being retransmitted.
    expect(statusOf(await guesser.next(new RegExp(`^SIP/2\\.0 [1-6][0-9]{2} [^]*^Call-ID: ${probe}\r$`, 'm')))).toBe(407);
    // The refused INVITEs' transactions end on Timer H (no ACK was sent): nothing is left behind.
    await until('the transactions to end', noTransactions);
    guesser.close();
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
