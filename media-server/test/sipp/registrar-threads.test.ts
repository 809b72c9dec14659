import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SipTransportLayer } from '../../src/sip/transport/sip-transport-layer.ts';
import { freeSipPort, runSipp } from '../support/sipp.ts';
import { startEdge, type EdgeHarness } from '../support/edge-harness.ts';

/**
 * Registrar threads sharing the SIP UDP port (SO_REUSEPORT) with the main
 * thread: SIPp with one socket per call looks like many phones, so the
 * kernel spreads them over the three sockets.
 */
const PHONES = 40;
const FAILURE_LIMIT = 5;
const MANY_PHONES_SCENARIO = path.resolve(import.meta.dirname, '../../../bench/sipp/register-inf.xml');

let h: EdgeHarness;
beforeAll(async () => {
  h = await startEdge({ registrarThreads: 2, authFailuresPerMinute: FAILURE_LIMIT });
  for (let i = 0; i < PHONES; i++) {
    let phone = await h.addPhone(String(200 + i));
    // SIPp reads a password starting with "0x" as hex: give that phone new credentials.
    while (/^0x/i.test(phone.password)) phone = await h.addPhone(String(200 + i));
  }
});
afterAll(() => h?.stop());

const successfulCalls = (output: string) => Number(/Successful call\s*\|\s*\d+\s*\|\s*(\d+)/.exec(output)?.[1] ?? NaN);

describe('registrar threads', () => {
  it('registers phones the kernel spreads over the main thread and two registrar threads', async () => {
    const csv = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-reg-')), 'phones.csv');
    const phones = [...h.phones.values()];
    fs.writeFileSync(csv, ['SEQUENTIAL', ...phones.map((p) => `${p.username};[authentication username=${p.username} password=${p.password}];${p.extension}`)].join('\n') + '\n');
    const before = await h.edge.registrarThreads!.answered();
    const r = await runSipp({ scenario: MANY_PHONES_SCENARIO, target: h.target, localPort: await freeSipPort(), transport: 'un', calls: PHONES, rate: 40, limit: 10, extra: ['-inf', csv] });
    expect(r.code, r.errors || r.output.slice(-2000)).toBe(0);
    expect(successfulCalls(r.output)).toBe(PHONES);
    for (const p of phones) expect(await h.edge.bindings.list(p.extensionId), p.extension).toHaveLength(1);
    const after = await h.edge.registrarThreads!.answered();
    const byThread = after.map((n, i) => (n ?? 0) - (before[i] ?? 0));
    // Two REGISTERs per phone (the challenged one and the answer), on the same socket.
    for (const n of byThread) expect(n).toBeGreaterThanOrEqual(2);
    expect(byThread.reduce((a, b) => a + b, 0)).toBeLessThan(2 * PHONES);
  });

  it('refuses to share its port with a second edge (SO_REUSEPORT would accept it silently)', async () => {
    const second = new SipTransportLayer({ host: '127.0.0.1', udpPort: h.port, udpReusePort: 'lead' });
    await expect(second.start()).rejects.toThrow(/EADDRINUSE/);
    await second.stop();
  });

  it('counts wrong passwords from one address over every thread, and refuses it everywhere past the limit', async () => {
    const phone = h.phones.get('200')!;
    const flood = await runSipp({
      scenario: 'register-wrong.xml',
      target: h.target,
      localIp: '127.0.0.4',
      localPort: await freeSipPort('127.0.0.4'),
      transport: 'un',
      service: phone.username,
      auth: { username: phone.username, password: 'guess' },
      calls: 30,
      rate: 20,
      limit: 1,
      timeoutSeconds: 20,
    });
    // Each 403 Forbidden is one wrong password checked; past the limit the 403 comes before any check.
    // Counted per thread, three sockets would let about three times the limit through.
    expect(flood.code, flood.errors).toBe(0);
    const guesses = flood.logs.split('\n').filter((l) => l.includes('403 Forbidden')).length;
    expect(flood.logs).toContain('403 Too Many Failed Attempts');
    expect(guesses).toBeGreaterThanOrEqual(FAILURE_LIMIT);
    expect(guesses).toBeLessThanOrEqual(FAILURE_LIMIT + 2);
    const ok = await runSipp({ scenario: 'register.xml', target: h.target, localPort: await freeSipPort(), service: phone.username, auth: phone });
    expect(ok.code, ok.errors).toBe(0);
    // A colleague behind the same address (one NAT for the office) is not locked out with them.
    const colleague = h.phones.get('201')!;
    const behindNat = await runSipp({ scenario: 'register.xml', target: h.target, localIp: '127.0.0.4', localPort: await freeSipPort('127.0.0.4'), service: colleague.username, auth: colleague });
    expect(behindNat.code, behindNat.errors).toBe(0);
  });
});
