import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFuzzCorpus } from '../sip/support/fuzz-corpus.ts';
import { freeSipPort, runSipp } from '../support/sipp.ts';
import { startEdge, type EdgeHarness } from '../support/edge-harness.ts';

/**
 * The whole SIP edge (registrar and call engine behind the transports) under
 * bad input: the fuzz corpus, then a password-guessing flood.
 */
let h: EdgeHarness;
beforeAll(async () => {
  h = await startEdge({ authFailuresPerMinute: 10 });
  await h.addPhone('101');
});
afterAll(() => h?.stop());

async function udpExchange(messages: Buffer[], from = '127.0.0.1', waitMs = 1500): Promise<string[]> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, from, () => r()));
  const received: string[] = [];
  socket.on('message', (m) => received.push(m.toString('latin1')));
  for (const m of messages) {
    if (m.length > 65_000) continue;
    await new Promise<void>((r) => socket.send(m, h.port, '127.0.0.1', () => r()));
  }
  await new Promise((r) => setTimeout(r, waitMs));
  socket.close();
  return received;
}

/** Sends one request from `from` and resolves with the first reply (waited for, however slow the machine). */
async function udpRequest(message: Buffer, from: string): Promise<string> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, from, () => r()));
  try {
    const reply = new Promise<string>((resolve) => socket.once('message', (m) => resolve(m.toString('latin1'))));
    socket.send(message, h.port, '127.0.0.1');
    return await reply;
  } finally {
    socket.close();
  }
}

describe('SIP edge robustness', () => {
  it('survives the fuzz corpus without a server error, then still registers a phone', async () => {
    const corpus = generateFuzzCorpus();
    expect(corpus.length).toBeGreaterThanOrEqual(200);
    const replies = await udpExchange(corpus.map((c) => c.data));
    // A 400 echoes the sender's own (broken) headers, so only the status line is read here.
    const statuses = replies.map((r) => Number(/^SIP\/2\.0 ([0-9]{3}) /.exec(r)?.[1] ?? -1));
    expect(statuses).not.toContain(-1);
    expect(statuses.length).toBeGreaterThan(100);
    // 505 Version Not Supported is the answer to a mutated SIP version, not a failure of the server.
    expect(statuses.filter((s) => s >= 500 && s !== 505)).toEqual([]);
    const phone = h.phones.get('101')!;
    const r = await runSipp({ scenario: 'register.xml', target: h.target, localPort: await freeSipPort(), service: phone.username, auth: phone });
    expect(r.code, r.errors).toBe(0);
  });

  it('throttles a flood of bad passwords from one address while a real phone still registers', async () => {
    const phone = h.phones.get('101')!;
    const flood = await runSipp({
      scenario: 'register-wrong.xml',
      target: h.target,
      localIp: '127.0.0.3',
      localPort: await freeSipPort('127.0.0.3'),
      service: phone.username,
      auth: { username: phone.username, password: 'guess' },
      calls: 200,
      rate: 200,
      limit: 50,
      timeoutSeconds: 20,
    });
    // Every first REGISTER is challenged (401) and every guess answered 403, as the scenario expects:
    // the address stays far below its ceiling (100), since only checked passwords count.
    expect(flood.code, flood.errors).toBe(0);
    // Exactly 10 passwords were checked (403 Forbidden), however many guesses were in flight at once: each
    // took its slot before the lookup. The flood's one socket reaches one thread's copy of the throttle.
    const lines = flood.logs.split('\n');
    expect(lines.filter((l) => l.includes('403 Forbidden'))).toHaveLength(10);
    expect(lines.filter((l) => l.includes('403 Too Many Failed Attempts')).length).toBeGreaterThan(0);
    // The user is refused at that address before any password check, whatever the credentials say.
    const refused = await udpRequest(
      Buffer.from(`REGISTER sip:carillon.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.3:5099;branch=z9hG4bKflood1;rport\r\nFrom: <sip:${phone.username}@carillon.test>;tag=f\r\nTo: <sip:${phone.username}@carillon.test>\r\nCall-ID: flood-probe\r\nCSeq: 1 REGISTER\r\nContact: <sip:x@127.0.0.3:5099>\r\nAuthorization: Digest username="${phone.username}", realm="carillon.test", nonce="x", uri="sip:carillon.test", response="0"\r\nContent-Length: 0\r\n\r\n`),
      '127.0.0.3',
    );
    expect(refused).toMatch(/^SIP\/2\.0 403 Too Many Failed Attempts/);
    const ok = await runSipp({ scenario: 'register.xml', target: h.target, localPort: await freeSipPort(), service: phone.username, auth: phone });
    expect(ok.code, ok.errors).toBe(0);
  });
});
