import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp, type SippRun } from '../support/sipp.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { startBrowserPhones, type BrowserPhone, type BrowserPhones } from '../support/browser-phone.ts';

/**
 * WebRTC legs end to end: Chromium running sip.js over SIP/WebSocket, and a
 * SIPp phone playing PCMA, through the B2BUA. Chromium's own statistics show
 * what it received; the media engine's show what reached the SIPp side.
 */
let h: EdgeHarness;
let browsers: BrowserPhones;
let sippPhone: TestPhone;
let browserPhone: BrowserPhone;
const callees: SippRun[] = [];
/** Media worker and leg failures: none may happen on a good call. */
const mediaErrors: string[] = [];

beforeAll(async () => {
  h = await startEdge({ noAnswerSeconds: 8 });
  sippPhone = await h.addPhone('101');
  const browserCredentials = await h.addPhone('201');
  h.media.on('error', (e: Error) => mediaErrors.push(e.message));
  h.media.on('leg-error', (e) => mediaErrors.push(e.message));
  browsers = await startBrowserPhones(h.edge.transport.ports.WS!, 'carillon.test');
  browserPhone = await browsers.open(browserCredentials);
  expect(await browserPhone.events()).toContain('registered');
});
afterAll(async () => {
  await browsers?.close();
  await h?.stop();
});
afterEach(() => {
  for (const c of callees.splice(0)) c.stop();
  expect(mediaErrors.splice(0)).toEqual([]);
});

async function lastCallLegs() {
  // Once the records' last writes are done (a call's end is written after it ends).
  const call = await h.lastCall();
  return { call, legs: await h.db.selectFrom('call_legs').selectAll().where('call_id', '=', call.id).execute() };
}

describe('browser (sip.js in Chromium) and SIPp phone', () => {
  it('a SIPp phone calls the browser: ICE-lite, DTLS-SRTP, the caller’s PCMA kept end to end, audio both ways', async () => {
    const before = h.ended.length;
    const uac = await runSipp({ scenario: 'uac-call.xml', target: h.target, localPort: await freeSipPort(), service: '201', auth: sippPhone, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    await h.waitForEnded(before + 1);
    const { call, result } = h.ended.at(-1)!;
    expect(result).toBe('answered');
    // Chromium decoded the SIPp phone's audio: packets and non-zero energy.
    const peak = await browserPhone.peak();
    expect(peak.inboundPackets).toBeGreaterThan(50);
    expect(peak.inboundEnergy).toBeGreaterThan(0);
    // The caller's codec is offered first, and Chromium takes it: no transcoding on this call.
    expect(peak.codec).toBe('audio/PCMA');
    // The browser's fake microphone reached the SIPp side (leg a sends what leg b received).
    const b = call.lastStats.find((s) => s.legId === 'b')!;
    const a = call.lastStats.find((s) => s.legId === 'a')!;
    expect(b.received.packets).toBeGreaterThan(50);
    expect(a.sent.packets).toBeGreaterThan(50);
    const { legs } = await lastCallLegs();
    expect(legs.map((l) => [l.role, l.codec]).sort()).toEqual([
      ['callee', 'PCMA'],
      ['caller', 'PCMA'],
    ]);
    expect(await browserPhone.events()).toContain('hangup');
  }, 60_000);

  it('the browser calls a SIPp phone and hangs up: Opus ↔ PCMA transcoded (30 ms packets), audio both ways', async () => {
    const phone = h.phones.get('102') ?? (await h.addPhone('102'));
    await h.edge.bindings.removeAll(phone.extensionId);
    const uas = await startRegisteredSipp({ target: h.target, credentials: phone, scenario: 'uas-answer.xml' });
    callees.push(uas);
    const before = h.ended.length;
    const eventsBefore = (await browserPhone.events()).length;
    await browserPhone.call('102');
    await browserPhone.page.waitForFunction((n) => (window as unknown as { events: string[] }).events.slice(n).includes('answered'), eventsBefore, { timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 3000));
    const peak = await browserPhone.peak();
    await browserPhone.hangUp();
    const done = await uas.done;
    expect(done.code, done.errors).toBe(0);
    await h.waitForEnded(before + 1);
    const { call, result } = h.ended.at(-1)!;
    expect(result).toBe('answered');
    expect(peak.inboundPackets).toBeGreaterThan(50);
    expect(peak.inboundEnergy).toBeGreaterThan(0);
    const a = call.lastStats.find((s) => s.legId === 'a')!;
    const b = call.lastStats.find((s) => s.legId === 'b')!;
    expect(a.received.packets).toBeGreaterThan(50);
    expect(b.sent.packets).toBeGreaterThan(50);
    const { call: cdr, legs } = await lastCallLegs();
    expect(cdr).toMatchObject({ from_number: '201', to_number: '102', hangup_by: 'caller' });
    expect(legs.find((l) => l.role === 'caller')!.codec).toBe('opus');
  }, 60_000);
});
