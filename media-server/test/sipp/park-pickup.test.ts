import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createParkLocation, createPickupGroup } from '@carillon/core';
import { parkSlotKey } from '@carillon/contracts/park';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp, startSipp, type SippRun } from '../support/sipp.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { startTonePeer, type TonePeer } from '../support/tone-peer.ts';
import { liveCounts } from '../../src/health.ts';

/**
 * Park locations and directed call pickup (issue 15 points 4 and 5) between
 * SIPp phones through the SIP edge, with the unreleased area 'park' enabled.
 * Each phone's media is an RTP socket of the test speaking its own tone, so
 * the test hears who is connected to whom (Goertzel), not only that packets flow.
 */
let h: EdgeHarness;
const phones: Record<string, TestPhone> = {};
const A_HZ = 600;
const B_HZ = 900;
const C_HZ = 1400;

beforeAll(async () => {
  // The recall is far off here: park-recall.test.ts tests it.
  h = await startEdge({ unreleased: 'park', noAnswerSeconds: 20, parkRecallSeconds: 300 });
  for (const n of ['101', '102', '103', '104', '105', '106']) phones[n] = await h.addPhone(n);
  const actor = { userId: null, ip: null };
  // 101 (the caller) and 104 are members of neither: members only park, retrieve and pick up.
  await createParkLocation(h.db, actor, h.accountId, { name: 'Front desk', number: '801', memberExtensionIds: [phones['102']!.extensionId, phones['103']!.extensionId] });
  await createPickupGroup(h.db, actor, h.accountId, { name: 'Reception', memberExtensionIds: [phones['102']!.extensionId, phones['103']!.extensionId] });
  // PU-02: a group's members may come from any site. 106 is in the Lyon site (site code 7, so its full number is 7106), in a group with 102 of the main site.
  const lyon = await h.db.insertInto('sites').values({ account_id: h.accountId, name: 'Lyon', site_code: '7', caller_id_name: null }).returning('id').executeTakeFirstOrThrow();
  await h.db.updateTable('extensions').set({ site_id: lyon.id }).where('id', '=', phones['106']!.extensionId).execute();
  await createPickupGroup(h.db, actor, h.accountId, { name: 'Across sites', siteId: lyon.id, memberExtensionIds: [phones['102']!.extensionId, phones['106']!.extensionId] });
  h.configChanged('extensions', 'sites');
}, 60_000);
afterAll(() => h?.stop());

const running: SippRun[] = [];
const peers: TonePeer[] = [];
afterEach(() => {
  for (const r of running.splice(0)) r.stop();
  for (const p of peers.splice(0)) p.close();
});

async function peer(hz: number) {
  const p = await startTonePeer(hz);
  peers.push(p);
  return p;
}

async function callee(extension: string, scenario: string, vars: Record<string, string> = {}) {
  await h.edge.bindings.removeAll(phones[extension]!.extensionId);
  const run = await startRegisteredSipp({ target: h.target, credentials: phones[extension]!, scenario, vars });
  running.push(run);
  return run;
}

async function dial(from: string, number: string, scenario: string, vars: Record<string, string> = {}) {
  const run = startSipp({ scenario, target: h.target, localPort: await freeSipPort(), service: number, auth: phones[from]!, timeoutSeconds: 60, vars, extra: ['-mp', String(await freeMediaPort())] });
  running.push(run);
  await run.ready;
  return run;
}

async function waitFor<T>(what: string, probe: () => T | null | undefined | false, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Once the scenario logged our media port (from its 200), its phone's socket speaks to it: a phone talks without waiting to be spoken to. */
async function speakWhenAnswered(run: SippRun, socket: TonePeer): Promise<void> {
  const port = await waitFor('the answer to a SIPp phone', () => /media port (\d+)/.exec(run.logsSoFar())?.[1], 30_000);
  socket.speakTo(Number(port));
}

const parkedOn = (location: string) => h.edge.calls.calls().find((c) => c.parkedOn === location) ?? null;
/** The newest record of a call between two numbers, once its result is written. */
async function callRecord(from: string, to: string) {
  await h.lastCall();
  return h.db.selectFrom('calls').selectAll().where('account_id', '=', h.accountId).where('from_number', '=', from).where('to_number', '=', to).orderBy('started_at', 'desc').executeTakeFirstOrThrow();
}

const parkKeys = () => h.redis.keys(parkSlotKey(h.accountId, '*'));

describe('park locations', () => {
  it('parks a call on 801 by transfer (hold music), refuses a second park and a non-member, and another member retrieves it with audio both ways', async () => {
    const a = await peer(A_HZ);
    const b = await peer(B_HZ);
    const c = await peer(C_HZ);
    // 102 answers 101's call, then parks it on 801 by REFER.
    const parker = await callee('102', 'uas-refer-outcome.xml', { target: '801', rtpport: String(b.port) });
    const caller = await dial('101', '102', 'uac-socket-until-bye.xml', { rtpport: String(a.port) });
    const parked = await parker.done;
    // The parker hung up: its phone's media stops, as a real phone's does (a socket still sending would take the free side's latch back).
    b.close();
    expect(parked.code, parked.errors || parked.output.slice(-1500)).toBe(0);
    expect(parked.logs).toContain('transfer to 801: progress SIP/2.0 100 then SIP/2.0 200');
    await waitFor('the call parked on 801', () => parkedOn('801'));
    expect(await parkKeys()).toHaveLength(1);
    expect(h.edge.calls.parking!.size).toBe(1);

    // The parked caller hears hold music: steady packets with energy, from the moment it was parked.
    const parkedAt = Date.now();
    await a.until(() => a.heard.filter((x) => x.at >= parkedAt).length > 75, 20_000, 'hold music');
    expect(a.rms(parkedAt)).toBeGreaterThan(300);

    // A second call cannot be parked on the occupied location: 103 tries, its NOTIFY says 486, and it stays with its caller until it hangs up.
    const other = await peer(B_HZ);
    const secondParker = await callee('103', 'uas-refer-outcome.xml', { target: '801', rtpport: String(other.port) });
    const secondCaller = await dial('105', '103', 'uac-wait-bye.xml');
    const refused = await secondParker.done;
    other.close();
    expect(refused.code, refused.errors || refused.output.slice(-1500)).toBe(0);
    expect(refused.logs).toContain('transfer to 801: progress SIP/2.0 100 then SIP/2.0 486');
    expect((await secondCaller.done).code).toBe(0);
    expect(parkedOn('801')).not.toBeNull();

    // 104 is no member of 801: refused (403), the call stays parked.
    const stranger = await runSipp({ scenario: 'uac-forbidden.xml', target: h.target, localPort: await freeSipPort(), service: '801', auth: phones['104']!, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
    expect(stranger.code, stranger.errors || stranger.output.slice(-1500)).toBe(0);
    expect(parkedOn('801')).not.toBeNull();

    // 103, a member, dials 801: it talks with the parked caller, each hearing the other's tone.
    const retrievedAt = Date.now();
    const retriever = await dial('103', '801', 'uac-talk-then-bye.xml', { rtpport: String(c.port), talkms: '5000' });
    await speakWhenAnswered(retriever, c);
    await c.until(() => c.toneFrames(A_HZ) > 40, 30_000, 'the retriever hearing the parked caller');
    await a.until(() => a.toneFrames(C_HZ, retrievedAt) > 40, 30_000, 'the parked caller hearing the retriever');
    expect(parkedOn('801')).toBeNull();
    const r = await retriever.done;
    expect(r.code, r.errors || r.output.slice(-1500)).toBe(0);
    // The retriever hung up: the caller got its BYE.
    const callerDone = await caller.done;
    expect(callerDone.code, callerDone.errors || callerDone.output.slice(-1500)).toBe(0);

    // Nothing stays parked or live, here or in Redis.
    await waitFor('calls to end', () => h.edge.calls.activeCalls === 0);
    expect(h.edge.calls.parking!.size).toBe(0);
    expect(await parkKeys()).toEqual([]);
    await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
    // The call log: 101–102, then 101–103 after the retrieval, in one session.
    const last = await callRecord('101', '103');
    expect(last).toMatchObject({ result: 'answered' });
    // As after a blind transfer: the retriever's leg is in the new segment, whose session holds the 101–102 segment first.
    const legs = await h.db.selectFrom('call_legs').select(['role', 'result', 'device_id']).where('call_id', '=', last.id).execute();
    expect(legs).toEqual([{ role: 'transfer_target', result: 'answered', device_id: phones['103']!.deviceId }]);
    const session = await h.db.selectFrom('calls').select(['from_number', 'to_number', 'result']).where('session_id', '=', last.session_id).orderBy('started_at').execute();
    expect(session.map((x) => [x.from_number, x.to_number, x.result])).toEqual([
      ['101', '102', 'transferred'],
      ['101', '103', 'answered'],
    ]);
  }, 120_000);

  it('parks a call on 801 with the in-call code *8 801 # (SIP INFO digits): the one who keyed it is released, a member retrieves the call', async () => {
    const a = await peer(A_HZ);
    const b = await peer(B_HZ);
    const c = await peer(C_HZ);
    // 102 answers 101's call, then keys *8801# and waits for the BYE that releases it.
    const parker = await callee('102', 'uas-park-code.xml', { rtpport: String(b.port) });
    const caller = await dial('101', '102', 'uac-socket-until-bye.xml', { rtpport: String(a.port) });
    const released = await parker.done;
    b.close();
    expect(released.code, released.errors || released.output.slice(-1500)).toBe(0);
    expect(released.logs).toContain('released by the park code');
    await waitFor('the call parked on 801', () => parkedOn('801'));
    expect(await parkKeys()).toHaveLength(1);

    // The parked caller hears hold music.
    const parkedAt = Date.now();
    await a.until(() => a.heard.filter((x) => x.at >= parkedAt).length > 75, 20_000, 'hold music');
    expect(a.rms(parkedAt)).toBeGreaterThan(300);

    // 103, a member, dials 801 and talks with the parked caller.
    const retrievedAt = Date.now();
    const retriever = await dial('103', '801', 'uac-talk-then-bye.xml', { rtpport: String(c.port), talkms: '5000' });
    await speakWhenAnswered(retriever, c);
    await c.until(() => c.toneFrames(A_HZ) > 40, 30_000, 'the retriever hearing the parked caller');
    await a.until(() => a.toneFrames(C_HZ, retrievedAt) > 40, 30_000, 'the parked caller hearing the retriever');
    const r = await retriever.done;
    expect(r.code, r.errors || r.output.slice(-1500)).toBe(0);
    const callerDone = await caller.done;
    expect(callerDone.code, callerDone.errors || callerDone.output.slice(-1500)).toBe(0);
    await waitFor('calls to end', () => h.edge.calls.activeCalls === 0);
    expect(await parkKeys()).toEqual([]);
    await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
  }, 120_000);

  it('answers 404 to a member dialling an empty location', async () => {
    const run = await runSipp({ scenario: 'uac-unavailable-reason.xml', target: h.target, localPort: await freeSipPort(), service: '801', auth: phones['103']!, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
    // uac-unavailable-reason.xml expects a 480; an empty location is 404: the scenario fails on the unexpected status.
    expect(run.code).not.toBe(0);
    const last = await h.lastCall();
    expect(last).toMatchObject({ to_number: '801', result: 'not_found' });
  }, 60_000);
});

describe('busy lamp of a park location (RFC 4235 dialog events)', () => {
  it("NOTIFYs a member's subscription: free, a call parked (confirmed), free again once retrieved; a non-member is refused", async () => {
    const subscriber = startSipp({ scenario: 'subscribe-park-location.xml', target: h.target, localPort: await freeSipPort(), service: phones['103']!.username, auth: phones['103']!, timeoutSeconds: 90, vars: { mailbox: '801', event: 'dialog' } });
    running.push(subscriber);
    await subscriber.ready;
    // The scenario may finish (and its log directory go) right after its last NOTIFY: its final logs are read then.
    let finalLogs: string | null = null;
    void subscriber.done.then((r) => (finalLogs = r.logs));
    const notify = (n: number) => waitFor(`NOTIFY ${n}`, () => new RegExp(`notify-${n} .* version=(\\d+) busy=(.*)`).exec(finalLogs ?? subscriber.logsSoFar()), 30_000);
    const first = await notify(1);
    expect([first[1], first[2]!.trim()]).toEqual(['0', '']);
    expect(h.edge.parkKeys!.subscriptionCount).toBe(1);

    // 104 is no member of 801: its phone may not watch it.
    const stranger = await runSipp({ scenario: 'subscribe-park-refused.xml', target: h.target, localPort: await freeSipPort(), service: phones['104']!.username, auth: phones['104']!, vars: { mailbox: '801', event: 'dialog' } });
    expect(stranger.code, stranger.errors || stranger.output.slice(-1500)).toBe(0);

    const a = await peer(A_HZ);
    const b = await peer(B_HZ);
    const c = await peer(C_HZ);
    const parker = await callee('102', 'uas-refer-outcome.xml', { target: '801', rtpport: String(b.port) });
    const caller = await dial('101', '102', 'uac-socket-until-bye.xml', { rtpport: String(a.port) });
    expect((await parker.done).logs).toContain('then SIP/2.0 200');
    b.close();
    const second = await notify(2);
    expect([second[1], second[2]!.trim()]).toEqual(['1', '<state>confirmed</state>']);

    const retriever = await dial('103', '801', 'uac-talk-then-bye.xml', { rtpport: String(c.port), talkms: '2000' });
    await speakWhenAnswered(retriever, c);
    const third = await notify(3);
    expect([third[1], third[2]!.trim()]).toEqual(['2', '']);
    expect((await retriever.done).code).toBe(0);
    expect((await caller.done).code).toBe(0);
    const s = await subscriber.done;
    expect(s.code, s.errors || s.output.slice(-1500)).toBe(0);
    expect(s.logs).toContain('unsubscribed terminated');
    expect(h.edge.parkKeys!.subscriptionCount).toBe(0);
    await waitFor('calls to end', () => h.edge.calls.activeCalls === 0);
  }, 120_000);
});

describe("busy lamp of a user's extension (RFC 4235 dialog events)", () => {
  it('shows a call ringing on 102 as early, and the lamp off once 103 picked it up', async () => {
    const subscriber = startSipp({ scenario: 'subscribe-park-location.xml', target: h.target, localPort: await freeSipPort(), service: phones['105']!.username, auth: phones['105']!, timeoutSeconds: 90, vars: { mailbox: '102', event: 'dialog' } });
    running.push(subscriber);
    await subscriber.ready;
    let finalLogs: string | null = null;
    void subscriber.done.then((r) => (finalLogs = r.logs));
    const notify = (n: number) => waitFor(`NOTIFY ${n}`, () => new RegExp(`notify-${n} .* version=(\\d+) busy=(.*)`).exec(finalLogs ?? subscriber.logsSoFar()), 30_000);
    expect((await notify(1))[2]!.trim()).toBe('');

    const a = await peer(A_HZ);
    const c = await peer(C_HZ);
    const ringing = await callee('102', 'uas-ring-cancelled.xml');
    const caller = await dial('101', '102', 'uac-socket-until-bye.xml', { rtpport: String(a.port) });
    const second = await notify(2);
    expect([second[1], second[2]!.trim()]).toEqual(['1', '<state>early</state>']);

    const picker = await dial('103', '*58102', 'uac-talk-then-bye.xml', { rtpport: String(c.port), talkms: '2000' });
    await speakWhenAnswered(picker, c);
    const third = await notify(3);
    expect([third[1], third[2]!.trim()]).toEqual(['2', '']);
    expect((await ringing.done).code).toBe(0);
    expect((await picker.done).code).toBe(0);
    expect((await caller.done).code).toBe(0);
    const s = await subscriber.done;
    expect(s.code, s.errors || s.output.slice(-1500)).toBe(0);
    expect(h.edge.parkKeys!.subscriptionCount).toBe(0);
    await waitFor('calls to end', () => h.edge.calls.activeCalls === 0);
  }, 120_000);
});

describe('directed call pickup (*58)', () => {
  it('picks up a call ringing on 102 from 103: 102 gets CANCEL, the caller and 103 talk; a non-member is refused', async () => {
    const a = await peer(A_HZ);
    const c = await peer(C_HZ);
    const ringing = await callee('102', 'uas-ring-cancelled.xml');
    const caller = await dial('101', '102', 'uac-socket-until-bye.xml', { rtpport: String(a.port) });
    await waitFor('the call ringing on 102', () => h.edge.calls.calls().find((x) => x.ringingExtension?.extensionNumber === '102'));

    // 104 is in no pickup group with 102.
    const stranger = await runSipp({ scenario: 'uac-forbidden.xml', target: h.target, localPort: await freeSipPort(), service: '*58102', auth: phones['104']!, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
    expect(stranger.code, stranger.errors || stranger.output.slice(-1500)).toBe(0);
    expect(h.edge.calls.calls().some((x) => x.ringingExtension?.extensionNumber === '102')).toBe(true);

    const pickedAt = Date.now();
    const picker = await dial('103', '*58102', 'uac-talk-then-bye.xml', { rtpport: String(c.port), talkms: '5000' });
    await speakWhenAnswered(picker, c);
    await speakWhenAnswered(caller, a);
    const rung = await ringing.done;
    expect(rung.code, `102 saw the CANCEL: ${rung.errors || rung.output.slice(-1500)}`).toBe(0);
    await c.until(() => c.toneFrames(A_HZ) > 40, 30_000, 'the picker hearing the caller');
    await a.until(() => a.toneFrames(C_HZ, pickedAt) > 40, 30_000, 'the caller hearing the picker');
    const p = await picker.done;
    expect(p.code, p.errors || p.output.slice(-1500)).toBe(0);
    const callerDone = await caller.done;
    expect(callerDone.code, callerDone.errors || callerDone.output.slice(-1500)).toBe(0);
    await waitFor('calls to end', () => h.edge.calls.activeCalls === 0);
    const last = await callRecord('101', '102');
    expect(last).toMatchObject({ result: 'answered', hangup_by: 'callee' });
    const legs = await h.db.selectFrom('call_legs').select(['role', 'result', 'device_id']).where('call_id', '=', last.id).execute();
    // 102's ringing leg was cancelled; 103's device answered in its place.
    expect(legs.find((l) => l.role === 'callee' && l.device_id === phones['103']!.deviceId)).toMatchObject({ result: 'answered' });
    expect(legs.find((l) => l.role === 'callee' && l.device_id === phones['102']!.deviceId)).toMatchObject({ result: 'cancelled' });
  }, 120_000);

  it('picks up across sites: 106 of the Lyon site picks up a call ringing on 102 of the main site, and they talk', async () => {
    const a = await peer(A_HZ);
    const c = await peer(C_HZ);
    const ringing = await callee('102', 'uas-ring-cancelled.xml');
    const caller = await dial('101', '102', 'uac-socket-until-bye.xml', { rtpport: String(a.port) });
    await waitFor('the call ringing on 102', () => h.edge.calls.calls().find((x) => x.ringingExtension?.extensionNumber === '102'));

    const pickedAt = Date.now();
    const picker = await dial('106', '*58102', 'uac-talk-then-bye.xml', { rtpport: String(c.port), talkms: '4000' });
    await speakWhenAnswered(picker, c);
    await speakWhenAnswered(caller, a);
    const rung = await ringing.done;
    expect(rung.code, `102 saw the CANCEL: ${rung.errors || rung.output.slice(-1500)}`).toBe(0);
    await c.until(() => c.toneFrames(A_HZ) > 40, 30_000, 'the picker in Lyon hearing the caller');
    await a.until(() => a.toneFrames(C_HZ, pickedAt) > 40, 30_000, 'the caller hearing the picker in Lyon');
    expect((await picker.done).code).toBe(0);
    expect((await caller.done).code).toBe(0);
    await waitFor('calls to end', () => h.edge.calls.activeCalls === 0);
    const legs = await h.db.selectFrom('call_legs').select(['role', 'result', 'device_id']).where('call_id', '=', (await callRecord('101', '102')).id).execute();
    expect(legs.find((l) => l.role === 'callee' && l.device_id === phones['106']!.deviceId)).toMatchObject({ result: 'answered' });
  }, 120_000);

  it("picks up the other way: 102 of the main site dials *58 + 106's full number (site code 7) while 106 rings", async () => {
    const a = await peer(A_HZ);
    const b = await peer(B_HZ);
    const ringing = await callee('106', 'uas-ring-cancelled.xml');
    const caller = await dial('101', '7106', 'uac-socket-until-bye.xml', { rtpport: String(a.port) });
    await waitFor('the call ringing on 106', () => h.edge.calls.calls().find((x) => x.ringingExtension?.extensionNumber === '106'));
    // 103 is in a group with 102, not with 106: refused.
    const stranger = await runSipp({ scenario: 'uac-forbidden.xml', target: h.target, localPort: await freeSipPort(), service: '*587106', auth: phones['103']!, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
    expect(stranger.code, stranger.errors || stranger.output.slice(-1500)).toBe(0);

    const pickedAt = Date.now();
    const picker = await dial('102', '*587106', 'uac-talk-then-bye.xml', { rtpport: String(b.port), talkms: '4000' });
    await speakWhenAnswered(picker, b);
    await speakWhenAnswered(caller, a);
    expect((await ringing.done).code).toBe(0);
    await b.until(() => b.toneFrames(A_HZ) > 40, 30_000, 'the picker hearing the caller');
    await a.until(() => a.toneFrames(B_HZ, pickedAt) > 40, 30_000, 'the caller hearing the picker');
    expect((await picker.done).code).toBe(0);
    expect((await caller.done).code).toBe(0);
    await waitFor('calls to end', () => h.edge.calls.activeCalls === 0);
  }, 120_000);

  it('answers 404 when nothing rings on the extension', async () => {
    const run = await runSipp({ scenario: 'uac-forbidden.xml', target: h.target, localPort: await freeSipPort(), service: '*58102', auth: phones['103']!, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
    expect(run.code).not.toBe(0);
    expect(await h.lastCall()).toMatchObject({ to_number: '*58102', result: 'not_found' });
  }, 60_000);
});
