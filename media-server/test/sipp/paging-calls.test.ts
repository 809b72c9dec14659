import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPagingGroup, updatePagingGroup } from '@carillon/core';
import { liveCounts } from '../../src/health.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { RtpPhone } from '../support/rtp-phone.ts';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp, startSipp, tellToHangUp, type SippRun } from '../support/sipp.ts';

/**
 * Paging (issue 15 point 2; inventory 2 §11), end to end on the live edge with the unreleased area
 * 'paging' enabled for this edge only. 101 may page group 700, whose receivers are the desk phones
 * of 201 and 202: registered SIPp phones that answer only an INVITE carrying the auto-answer hint
 * (uas-page-receiver.xml fails otherwise). Each phone's media is the test's own RTP socket
 * (RtpPhone), sending a tone of its own: who hears whom is told by the spectrum of what each receives.
 */
const PAGER_TONE = 900;
const R1_TONE = 1300;
const R2_TONE = 1700;
/** A tone heard through the room: the phones send amplitude 6000; the mix scales a little. */
const HEARD = 1000;
const GROUP = '700';

let h: EdgeHarness;
let pager: TestPhone;
let notAllowed: TestPhone;
let receivers: TestPhone[];
let groupId: string;
const running: SippRun[] = [];
const sockets: RtpPhone[] = [];

beforeAll(async () => {
  h = await startEdge({ unreleased: 'paging' });
  pager = await h.addPhone('101');
  notAllowed = await h.addPhone('102');
  receivers = [await h.addPhone('201'), await h.addPhone('202')];
  groupId = await createPagingGroup(h.db, { userId: null, ip: null }, h.accountId, {
    name: 'Warehouse',
    number: GROUP,
    receiverDeviceIds: receivers.map((r) => r.deviceId),
    pagerExtensionIds: [pager.extensionId],
  });
  h.configChanged('extensions');
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

afterEach(async () => {
  for (const r of running.splice(0)) r.stop();
  for (const s of sockets.splice(0)) s.close();
  for (const r of receivers) await h.edge.bindings.removeAll(r.extensionId);
});

async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function rtp(tone: number | null): Promise<RtpPhone> {
  const phone = await RtpPhone.open(tone);
  sockets.push(phone);
  return phone;
}

async function expectNothingLive(): Promise<void> {
  await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
  expect(h.edge.calls.rooms.size).toBe(0);
}

describe('paging', () => {
  it('*84 + the group: both receivers auto-answer and hear the pager; the pager hears nothing back; its BYE ends every receiver', async () => {
    const heard = [await rtp(R1_TONE), await rtp(R2_TONE)];
    const phones = [];
    for (const [i, r] of receivers.entries()) {
      const run = await startRegisteredSipp({ target: h.target, credentials: r, scenario: 'uas-page-receiver.xml', vars: { rtpport: String(heard[i]!.port) }, timeoutSeconds: 60 });
      running.push(run);
      phones.push(run);
    }
    const voice = await rtp(PAGER_TONE);
    const page = startSipp({
      scenario: 'uac-talk-until-told.xml',
      target: h.target,
      localPort: await freeSipPort(),
      service: `*84${GROUP}`,
      auth: pager,
      timeoutSeconds: 60,
      vars: { rtpport: String(voice.port) },
      extra: ['-mp', String(await freeMediaPort())],
    });
    running.push(page);
    // The receivers hear the pager's tone through the room.
    await until(() => heard.every((r) => r.levelSince(Date.now() - 600, PAGER_TONE) > HEARD), 'both receivers hearing the pager');
    const listening = Date.now();
    // The pager talks on for a second and a half of the checks' window, then hangs up (on the test's word).
    await until(() => Date.now() - listening > 1500, 'a second and a half of paging');
    await tellToHangUp(page);
    const result = await page.done;
    expect(result.code, result.errors || result.output.slice(-1500)).toBe(0);
    const over = Date.now();
    // While both heard the pager, the pager heard neither receiver (listeners are never heard), nor anything else.
    expect(voice.levelSince(listening, R1_TONE)).toBeLessThan(HEARD / 10);
    expect(voice.levelSince(listening, R2_TONE)).toBeLessThan(HEARD / 10);
    expect(voice.rmsSince(listening)).toBeLessThan(100);
    // Nor did the receivers hear each other.
    expect(heard[0]!.levelSince(listening, R2_TONE)).toBeLessThan(HEARD / 10);
    expect(heard[1]!.levelSince(listening, R1_TONE)).toBeLessThan(HEARD / 10);
    expect(over - listening).toBeGreaterThan(1000);
    // The pager's BYE ended both receivers (each scenario ends on the BYE it got, and fails on a missing hint).
    for (const p of phones) {
      const r = await p.done;
      expect(r.code, r.errors || r.output.slice(-1500)).toBe(0);
    }
    await expectNothingLive();
    const call = await h.lastCall();
    expect(call).toMatchObject({ to_number: `*84${GROUP}`, result: 'answered', hangup_by: 'caller' });
    const legs = await h.db.selectFrom('call_legs').select(['device_id', 'result', 'answered_at']).where('call_id', '=', call.id).where('role', '=', 'callee').execute();
    expect(legs.map((l) => [l.device_id, l.result]).sort()).toEqual(receivers.map((r) => [r.deviceId, 'answered']).sort());
  }, 90_000);

  it('a receiver that hangs up leaves the page going on; one that rings without answering is CANCELled when the pager hangs up', async () => {
    // 201 ignores the auto-answer hint and rings; 202 answers, listens for 3 s, and hangs up.
    const ringing = await startRegisteredSipp({ target: h.target, credentials: receivers[0]!, scenario: 'uas-ring-cancelled.xml', timeoutSeconds: 60 });
    running.push(ringing);
    const heard = await rtp(R2_TONE);
    const leaving = await startRegisteredSipp({ target: h.target, credentials: receivers[1]!, scenario: 'uas-answer-talk-bye.xml', vars: { rtpport: String(heard.port), talkms: '3000' }, timeoutSeconds: 60 });
    running.push(leaving);
    const voice = await rtp(PAGER_TONE);
    const page = startSipp({
      scenario: 'uac-talk-until-told.xml',
      target: h.target,
      localPort: await freeSipPort(),
      service: `*84${GROUP}`,
      auth: pager,
      timeoutSeconds: 60,
      vars: { rtpport: String(voice.port) },
      extra: ['-mp', String(await freeMediaPort())],
    });
    running.push(page);
    const left = await leaving.done;
    expect(left.code, left.errors || left.output.slice(-1500)).toBe(0);
    expect(heard.levelSince(0, PAGER_TONE), 'what 202 heard of the pager before it left').toBeGreaterThan(HEARD);
    // The pager's own BYE once 202 has left (on the test's word; its scenario fails on a BYE from us): the page outlived the receiver who left.
    await tellToHangUp(page);
    const result = await page.done;
    expect(result.code, result.errors || result.output.slice(-1500)).toBe(0);
    const cancelled = await ringing.done;
    expect(cancelled.code, cancelled.errors || cancelled.output.slice(-1500)).toBe(0);
    await expectNothingLive();
    const call = await h.lastCall();
    const legs = await h.db.selectFrom('call_legs').select(['device_id', 'result']).where('call_id', '=', call.id).where('role', '=', 'callee').execute();
    expect(legs.map((l) => [l.device_id, l.result]).sort()).toEqual(
      [
        [receivers[0]!.deviceId, 'cancelled'],
        [receivers[1]!.deviceId, 'answered'],
      ].sort(),
    );
  }, 90_000);

  it('a user not allowed to page the group is refused with 403, and nothing is rung', async () => {
    const run = await runSipp({ scenario: 'uac-forbidden.xml', target: h.target, localPort: await freeSipPort(), service: `*84${GROUP}`, auth: notAllowed, timeoutSeconds: 20, extra: ['-mp', String(await freeMediaPort())] });
    expect(run.code, run.errors || run.output.slice(-1500)).toBe(0);
    const call = await h.lastCall();
    expect(call).toMatchObject({ to_number: `*84${GROUP}`, result: 'forbidden' });
    const legs = await h.db.selectFrom('call_legs').select('id').where('call_id', '=', call.id).where('role', '=', 'callee').execute();
    expect(legs).toEqual([]);
    await expectNothingLive();
  }, 60_000);

  it('an unknown group number and a disabled group are refused as not found (404)', async () => {
    // uac-unavailable-reason.xml expects a 480: a 404 fails it, which is what must happen here.
    const unknown = await runSipp({ scenario: 'uac-unavailable-reason.xml', target: h.target, localPort: await freeSipPort(), service: '*84799', auth: pager, timeoutSeconds: 20, extra: ['-mp', String(await freeMediaPort())] });
    expect(unknown.code).not.toBe(0);
    expect(await h.lastCall()).toMatchObject({ to_number: '*84799', result: 'not_found' });
    await updatePagingGroup(h.db, { userId: null, ip: null }, h.accountId, groupId, { enabled: false });
    h.configChanged('extensions');
    try {
      const disabled = await runSipp({ scenario: 'uac-unavailable-reason.xml', target: h.target, localPort: await freeSipPort(), service: `*84${GROUP}`, auth: pager, timeoutSeconds: 20, extra: ['-mp', String(await freeMediaPort())] });
      expect(disabled.code).not.toBe(0);
      expect(await h.lastCall()).toMatchObject({ to_number: `*84${GROUP}`, result: 'not_found' });
    } finally {
      await updatePagingGroup(h.db, { userId: null, ip: null }, h.accountId, groupId, { enabled: true });
      h.configChanged('extensions');
    }
    await expectNothingLive();
  }, 60_000);
});
