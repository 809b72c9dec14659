import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeSipPort, runSipp } from '../support/sipp.ts';
import { startEdge, type EdgeHarness } from '../support/edge-harness.ts';

let h: EdgeHarness;
beforeAll(async () => {
  h = await startEdge({ authFailuresPerMinute: 5 });
  await h.addPhone('101');
});
afterAll(() => h?.stop());

describe('REGISTER against SIPp (sip-tester)', () => {
  it('registers with the right password after the digest challenge', async () => {
    const phone = h.phones.get('101')!;
    const r = await runSipp({ scenario: 'register.xml', target: h.target, localPort: await freeSipPort(), service: phone.username, auth: phone });
    expect(r.code, r.errors || r.output.slice(-2000)).toBe(0);
    const bindings = await h.edge.bindings.list(phone.extensionId);
    expect(bindings).toHaveLength(1);
    expect(bindings[0]!.userAgent).toBe('SIPp');
  });

  it('answers 403 to a wrong password after the challenge', async () => {
    const phone = h.phones.get('101')!;
    const r = await runSipp({ scenario: 'register-wrong.xml', target: h.target, localPort: await freeSipPort(), service: phone.username, auth: { username: phone.username, password: 'not-the-password' } });
    expect(r.code, r.errors || r.output.slice(-2000)).toBe(0);
  });

  it('registers over TCP too', async () => {
    const phone = h.phones.get('101')!;
    const r = await runSipp({ scenario: 'register.xml', target: `127.0.0.1:${h.edge.transport.ports.TCP}`, transport: 't1', localPort: await freeSipPort(), service: phone.username, auth: phone });
    expect(r.code, r.errors || r.output.slice(-2000)).toBe(0);
  });
});
