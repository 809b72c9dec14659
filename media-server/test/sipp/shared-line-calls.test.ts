import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSharedLine, updateSharedLine, type SharedLineView } from '@carillon/core';
import { DEFAULT_SHARED_LINE_SETTINGS, type SharedLineSettings } from '@carillon/domain';
import { liveCounts } from '../../src/health.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { RtpPhone } from '../support/rtp-phone.ts';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp, startSipp, type SippRun } from '../support/sipp.ts';
import { analyseWav, toneWav } from '../support/wav.ts';
import { blockEnergy } from '../../src/media/audio/goertzel.ts';

/**
 * Shared lines (issue 15 point 3; inventory 2 §12, SL-01, SL-05, SL-07, SL-09), end to end on the live
 * edge with the unreleased area 'shared_lines' enabled for this edge only. Line 600 rings the desk phones
 * of 201 and 202 (registered SIPp phones); the settings are saved with core's `updateSharedLine` (what
 * the API calls) and the edge reads them on the next call. Each phone's media is the test's own RTP
 * socket (RtpPhone) sending a tone of its own: who hears whom is told by the spectrum of what each receives.
 */
const DATA_DIR = '/tmp/carillon-tests';
const LINE = '600';
const CALLER_HZ = 900;
const DESK_HZ = 1300;
const COLLEAGUE_HZ = 1700;
const SECOND_DESK_HZ = 500;
/** The hold events of a call whose answering phone held it, then resumed it or passed it on. */
const HELD_THEN_NOT = [
  { side: 'b', held: true },
  { side: 'b', held: false },
];
/** A tone heard through the bridge: the phones send amplitude 6000. */
const HEARD = 1000;
const ACTOR = { userId: null, ip: null };

let h: EdgeHarness;
let caller: TestPhone;
let desks: TestPhone[];
let colleague: TestPhone;
let line: SharedLineView;
const running: SippRun[] = [];
const sockets: RtpPhone[] = [];

beforeAll(async () => {
  h = await startEdge({ unreleased: 'shared_lines' });
  caller = await h.addPhone('101');
  desks = [await h.addPhone('201'), await h.addPhone('202')];
  // A user outside the line: where a desk phone transfers a call.
  colleague = await h.addPhone('203');
  line = await createSharedLine(h.db, ACTOR, h.accountId, { name: 'Front Desk', number: LINE, deviceIds: desks.map((d) => d.deviceId) });
  // The mailbox of 201 (the message recipient below) greets with one second of 440 Hz, so that the message starts soon.
  const greeting = path.posix.join('greetings', h.accountId, 'shared-line-201.wav');
  fs.mkdirSync(path.join(DATA_DIR, path.dirname(greeting)), { recursive: true });
  fs.writeFileSync(path.join(DATA_DIR, greeting), toneWav(440, 1000));
  await h.db.insertInto('voicemail_settings').values({ extension_id: desks[0]!.extensionId, account_id: h.accountId, greeting_path: greeting, language: 'en', transcribe: false }).execute();
  h.configChanged('extensions');
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

afterEach(async () => {
  for (const r of running.splice(0)) r.stop();
  for (const s of sockets.splice(0)) s.close();
  for (const d of [...desks, colleague]) await h.edge.bindings.removeAll(d.extensionId);
});

async function settings(change: Partial<SharedLineSettings>): Promise<void> {
  const saved = await updateSharedLine(h.db, ACTOR, h.accountId, line.id, { settings: { ...DEFAULT_SHARED_LINE_SETTINGS, ...change } });
  expect(saved).not.toBeNull();
  h.configChanged('extensions');
}

async function rtp(tone: number | null): Promise<RtpPhone> {
  const phone = await RtpPhone.open(tone);
  sockets.push(phone);
  return phone;
}

async function expectNothingLive(): Promise<void> {
  await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
}

const calleeLegs = async (callId: string) =>
  (await h.db.selectFrom('call_legs').select(['device_id', 'result']).where('call_id', '=', callId).where('role', '=', 'callee').execute()).map((l) => [l.device_id, l.result]).sort();

/** With the line's default settings, desk phone 201 answers the next call on its RTP socket (the desk's tone), by `scenario`. */
async function deskAnswers(scenario: string, vars: Record<string, string> = {}): Promise<{ media: RtpPhone; run: SippRun }> {
  await settings({});
  const media = await rtp(DESK_HZ);
  const run = await startRegisteredSipp({ target: h.target, credentials: desks[0]!, scenario, vars: { rtpport: String(media.port), ...vars }, timeoutSeconds: 60 });
  running.push(run);
  return { media, run };
}

describe('shared line', () => {
  it('rings both phones of the line; the first to answer takes the call, the other gets CANCEL; each hears the other', async () => {
    const { media: deskMedia, run: answering } = await deskAnswers('uas-socket-until-bye.xml');
    const ringing = await startRegisteredSipp({ target: h.target, credentials: desks[1]!, scenario: 'uas-ring-cancelled.xml', timeoutSeconds: 60 });
    running.push(ringing);
    const callerMedia = await rtp(CALLER_HZ);
    const uac = await runSipp({
      scenario: 'uac-listen-then-bye.xml',
      target: h.target,
      localPort: await freeSipPort(),
      service: LINE,
      auth: caller,
      timeoutSeconds: 60,
      vars: { rtpport: String(callerMedia.port) },
      extra: ['-d', '6000', '-mp', String(await freeMediaPort())],
    });
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    // The phone that rang was CANCELled (its scenario fails otherwise); the one that answered had our BYE after the caller's.
    const cancelled = await ringing.done;
    expect(cancelled.code, cancelled.errors || cancelled.output.slice(-1500)).toBe(0);
    const answered = await answering.done;
    expect(answered.code, answered.errors || answered.output.slice(-1500)).toBe(0);
    expect(callerMedia.levelSince(0, DESK_HZ), 'what the caller heard of the desk phone').toBeGreaterThan(HEARD);
    expect(deskMedia.levelSince(0, CALLER_HZ), 'what the desk phone heard of the caller').toBeGreaterThan(HEARD);
    await expectNothingLive();
    const call = await h.lastCall();
    expect(call).toMatchObject({ to_number: LINE, result: 'answered', hangup_by: 'caller' });
    expect(await calleeLegs(call.id)).toEqual(
      [
        [desks[0]!.deviceId, 'answered'],
        [desks[1]!.deviceId, 'cancelled'],
      ].sort(),
    );
  }, 90_000);

  it('nobody answers within the ring time: the message goes to the recipient’s mailbox (SL-09)', async () => {
    await settings({ ringSeconds: 5, messageRecipient: '201' });
    for (const d of desks) running.push(await startRegisteredSipp({ target: h.target, credentials: d, scenario: 'uas-ring-cancelled.xml', timeoutSeconds: 60 }));
    const before = await h.db.selectFrom('voicemail_messages').select('id').where('mailbox_extension_id', '=', desks[0]!.extensionId).execute();
    const uac = await runSipp({ scenario: 'uac-ring-then-message.xml', target: h.target, localPort: await freeSipPort(), service: LINE, auth: caller, timeoutSeconds: 60, extra: ['-mp', String(await freeMediaPort())] });
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    for (const r of running) {
      const done = await r.done;
      expect(done.code, done.errors || done.output.slice(-1500)).toBe(0);
    }
    await expect.poll(async () => (await h.db.selectFrom('voicemail_messages').select('id').where('mailbox_extension_id', '=', desks[0]!.extensionId).execute()).length, { timeout: 20_000, interval: 100 }).toBe(before.length + 1);
    const message = await h.db.selectFrom('voicemail_messages').selectAll().where('mailbox_extension_id', '=', desks[0]!.extensionId).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    expect(message).toMatchObject({ reason: 'no_answer', from_number: '101', to_number: LINE });
    // The caller spoke (the pcap) after the greeting and the beep: a message with sound in it.
    const wav = analyseWav(path.join(DATA_DIR, message.audio_path), 1000);
    expect(wav.seconds).toBeGreaterThan(3);
    expect(wav.rms).toBeGreaterThan(100);
    await expectNothingLive();
    const call = await h.lastCall();
    expect(await calleeLegs(call.id)).toEqual(desks.map((d) => [d.deviceId, 'cancelled']).sort());
  }, 90_000);

  it('blocks all calls (SL-05): the caller hears the message and is hung up; no phone rings', async () => {
    await settings({ blocked: { mode: 'all', numbers: [], message: 'unavailable' } });
    const heard = await rtp(null);
    const uac = await runSipp({ scenario: 'uac-listen-until-bye.xml', target: h.target, localPort: await freeSipPort(), service: LINE, auth: caller, timeoutSeconds: 60, vars: { rtpport: String(heard.port) }, extra: ['-mp', String(await freeMediaPort())] });
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    // The message: a second or more of speech before our BYE.
    expect(heard.rmsSince(0)).toBeGreaterThan(100);
    const call = await h.lastCall();
    expect(call).toMatchObject({ to_number: LINE, result: 'rejected', hangup_by: 'blocked' });
    expect(await calleeLegs(call.id)).toEqual([]);
    await expectNothingLive();
  }, 60_000);
});

/** Once a scenario's log says `what` (a re-INVITE answered), when the test saw it. */
async function logged(run: SippRun, what: RegExp): Promise<number> {
  await expect.poll(() => run.logsSoFar(), { timeout: 30_000, interval: 20 }).toMatch(what);
  return Date.now();
}

const rmsOf = (pcm: Int16Array) => (pcm.length ? Math.sqrt(blockEnergy(pcm) / pcm.length) : 0);

/** The caller dials the line and talks (its RTP socket) for `talkms`, then hangs up. */
async function callLine(media: RtpPhone, talkms: number): Promise<SippRun> {
  const run = startSipp({ scenario: 'uac-talk-then-bye.xml', target: h.target, localPort: await freeSipPort(), service: LINE, auth: caller, timeoutSeconds: 60, vars: { rtpport: String(media.port), talkms: String(talkms) }, extra: ['-mp', String(await freeMediaPort())] });
  running.push(run);
  return run;
}

/** A phone that hung up stops sending, as a real one does (a socket still sending could take a new leg's latch). */
function hangUp(phone: RtpPhone): void {
  sockets.splice(sockets.indexOf(phone), 1);
  phone.close();
}

/** From `since` on, the caller hears `party`'s tone (`hz`, a second of it) and `party` hears the caller. */
async function hearEachOther(callerMedia: RtpPhone, party: RtpPhone, hz: number, since: number): Promise<void> {
  await expect.poll(() => callerMedia.pureToneFramesSince(since, hz), { timeout: 20_000, interval: 50 }).toBeGreaterThan(25);
  await expect.poll(() => party.levelSince(since, CALLER_HZ), { timeout: 20_000, interval: 50 }).toBeGreaterThan(HEARD);
}

async function passed(run: SippRun): Promise<void> {
  const r = await run.done;
  expect(r.code, r.errors || r.output.slice(-1500)).toBe(0);
}

describe('hold on a shared-line call (the phone that answered it)', () => {
  it('holds by re-INVITE (sendonly answered recvonly): the caller hears hold music, not the phone; on resume they hear each other again', async () => {
    const { media: deskMedia, run: holding } = await deskAnswers('uas-hold-resume.xml', { heldms: '3000' });
    const holdsBefore = h.holds.length;
    const callerMedia = await rtp(CALLER_HZ);
    const uac = await callLine(callerMedia, 9000);
    // Answered: the caller hears the phone.
    await expect.poll(() => callerMedia.pureToneFramesSince(0, DESK_HZ), { timeout: 20_000, interval: 50 }).toBeGreaterThan(10);
    const heldAt = await logged(holding, /held a=recvonly/);
    const resumedAt = await logged(holding, /resumed a=sendrecv/);
    // While held (our 200 to the hold went out once the music played): music with energy, none of the phone's tone.
    const whileHeld = callerMedia.heardSince(heldAt, resumedAt);
    expect(whileHeld.length, 'packets to the caller while held').toBeGreaterThan(8000);
    expect(rmsOf(whileHeld), 'hold music').toBeGreaterThan(300);
    expect(callerMedia.pureToneFramesSince(heldAt, DESK_HZ, resumedAt), "the phone's tone while held").toBeLessThan(3);
    // Resumed: each hears the other again.
    await hearEachOther(callerMedia, deskMedia, DESK_HZ, resumedAt);
    await passed(uac);
    await passed(holding);
    expect(h.holds.slice(holdsBefore)).toEqual(HELD_THEN_NOT);
    await expectNothingLive();
    expect(await h.lastCall()).toMatchObject({ to_number: LINE, result: 'answered', hangup_by: 'caller' });
  }, 90_000);

  it('the caller hangs up while held: the phone gets our BYE, and nothing stays live', async () => {
    const { run: holding } = await deskAnswers('uas-hold-until-bye.xml');
    const callerMedia = await rtp(CALLER_HZ);
    const uac = await callLine(callerMedia, 4000);
    const heldAt = await logged(holding, /held a=recvonly/);
    await expect.poll(() => callerMedia.heardSince(heldAt).length, { timeout: 20_000, interval: 50 }).toBeGreaterThan(4000);
    expect(callerMedia.rmsSince(heldAt), 'hold music').toBeGreaterThan(300);
    await passed(uac);
    await passed(holding);
    expect(h.holds.at(-1)).toEqual({ side: 'b', held: true });
    await expectNothingLive();
    expect(await h.lastCall()).toMatchObject({ to_number: LINE, result: 'answered', hangup_by: 'caller' });
  }, 90_000);

  it('the caller holds and resumes: answered recvonly then sendrecv, the hold seen as side a', async () => {
    const { run: answering } = await deskAnswers('uas-socket-until-bye.xml');
    const holdsBefore = h.holds.length;
    const uac = await runSipp({ scenario: 'uac-hold.xml', target: h.target, localPort: await freeSipPort(), service: LINE, auth: caller, timeoutSeconds: 60, extra: ['-mp', String(await freeMediaPort())] });
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    expect(uac.logs).toContain('hold answered a=recvonly, resume answered a=sendrecv');
    await passed(answering);
    expect(h.holds.slice(holdsBefore)).toEqual([
      { side: 'a', held: true },
      { side: 'a', held: false },
    ]);
    await expectNothingLive();
  }, 90_000);
});

describe('transfer by the phone that answered a shared-line call', () => {
  it('blind-transfers the caller to 203 by REFER: NOTIFY 100 then 200, the phone leaves, the caller and 203 hear each other', async () => {
    const { media: deskMedia, run: transferor } = await deskAnswers('uas-refer-outcome.xml', { target: '203' });
    const colleagueMedia = await rtp(COLLEAGUE_HZ);
    const target = await startRegisteredSipp({ target: h.target, credentials: colleague, scenario: 'uas-socket-until-bye.xml', vars: { rtpport: String(colleagueMedia.port) }, timeoutSeconds: 60 });
    running.push(target);
    const callerMedia = await rtp(CALLER_HZ);
    const uac = await callLine(callerMedia, 8000);
    const left = await transferor.done;
    expect(left.code, left.errors || left.output.slice(-1500)).toBe(0);
    expect(left.logs).toContain('transfer to 203: progress SIP/2.0 100 then SIP/2.0 200');
    hangUp(deskMedia);
    const transferredAt = Date.now();
    await hearEachOther(callerMedia, colleagueMedia, COLLEAGUE_HZ, transferredAt);
    await passed(uac);
    await passed(target);
    await expectNothingLive();
    const call = await h.lastCall();
    expect(call).toMatchObject({ to_number: LINE, result: 'answered', hangup_by: 'caller' });
    expect(await calleeLegs(call.id)).toEqual(
      [
        [desks[0]!.deviceId, 'transferred'],
        [colleague.deviceId, 'answered'],
      ].sort(),
    );
  }, 90_000);

  it('a REFER to a number that leads nowhere gets NOTIFY 404 and changes nothing: the phone stays with the caller until it hangs up', async () => {
    const { run: transferor } = await deskAnswers('uas-refer-outcome.xml', { target: '299' });
    const callerMedia = await rtp(CALLER_HZ);
    const uac = startSipp({ scenario: 'uac-socket-until-bye.xml', target: h.target, localPort: await freeSipPort(), service: LINE, auth: caller, timeoutSeconds: 60, vars: { rtpport: String(callerMedia.port) }, extra: ['-mp', String(await freeMediaPort())] });
    running.push(uac);
    const left = await transferor.done;
    expect(left.code, left.errors || left.output.slice(-1500)).toBe(0);
    expect(left.logs).toContain('transfer to 299: progress SIP/2.0 100 then SIP/2.0 404');
    // The phone hung up after the refusal (its BYE): the caller gets ours.
    await passed(uac);
    expect(callerMedia.pureToneFramesSince(0, DESK_HZ), 'the caller heard the phone before it hung up').toBeGreaterThan(10);
    await expectNothingLive();
    const call = await h.lastCall();
    expect(call).toMatchObject({ to_number: LINE, result: 'answered', hangup_by: 'callee' });
    expect(await calleeLegs(call.id)).toEqual([[desks[0]!.deviceId, 'answered']]);
  }, 90_000);
});

describe('SL-01: a call held on one phone of the line is picked up on another', () => {
  it('201 holds; 203 (not on the line) dialling 600 gets the line as usual; 202 dialling 600 takes the call: the caller hears 202, and 201 gets a BYE', async () => {
    await settings({ takeMessages: false });
    const deskMedia = await rtp(DESK_HZ);
    const holding = await startRegisteredSipp({ target: h.target, credentials: desks[0]!, scenario: 'uas-hold-until-bye.xml', vars: { rtpport: String(deskMedia.port) }, timeoutSeconds: 60 });
    running.push(holding);
    const holdsBefore = h.holds.length;
    const callerMedia = await rtp(CALLER_HZ);
    const uac = startSipp({ scenario: 'uac-socket-until-bye.xml', target: h.target, localPort: await freeSipPort(), service: LINE, auth: caller, timeoutSeconds: 60, vars: { rtpport: String(callerMedia.port) }, extra: ['-mp', String(await freeMediaPort())] });
    running.push(uac);
    const heldAt = await logged(holding, /held a=recvonly/);
    await expect.poll(() => callerMedia.heardSince(heldAt).length, { timeout: 20_000, interval: 50 }).toBeGreaterThan(4000);

    // 203 is no device of the line: its call to 600 is a call to the line (no device of it registered now but
    // 201, whose SIPp is busy holding: its registration goes, the held dialog stays), which hangs up on it.
    await h.edge.bindings.removeAll(desks[0]!.extensionId);
    const stranger = await runSipp({ scenario: 'uac-listen-until-bye.xml', target: h.target, localPort: await freeSipPort(), service: LINE, auth: colleague, timeoutSeconds: 30, vars: { rtpport: String((await rtp(null)).port) }, extra: ['-mp', String(await freeMediaPort())] });
    expect(stranger.code, stranger.errors || stranger.output.slice(-1500)).toBe(0);
    const strangerCall = await h.lastCall();
    expect(strangerCall).toMatchObject({ from_number: '203', to_number: LINE });
    const afterStranger = Date.now();
    await expect.poll(() => callerMedia.heardSince(afterStranger).length, { timeout: 20_000, interval: 50 }).toBeGreaterThan(4000);
    expect(callerMedia.pureToneFramesSince(heldAt, SECOND_DESK_HZ), 'nobody took the call yet').toBe(0);

    // 202, a device of the line, dials 600: it takes the held call. 201's phone sends nothing more (a socket
    // still sending to leg 'b' would take its latch back from 202, whose socket waits to be spoken to).
    hangUp(deskMedia);
    const secondDeskMedia = await rtp(SECOND_DESK_HZ);
    const pickedAt = Date.now();
    const picker = startSipp({ scenario: 'uac-talk-then-bye.xml', target: h.target, localPort: await freeSipPort(), service: LINE, auth: desks[1]!, timeoutSeconds: 60, vars: { rtpport: String(secondDeskMedia.port), talkms: '4000' }, extra: ['-mp', String(await freeMediaPort())] });
    running.push(picker);
    // 201's dialog ends with our BYE (its scenario passes on it).
    await passed(holding);
    await hearEachOther(callerMedia, secondDeskMedia, SECOND_DESK_HZ, pickedAt);
    // 202 hangs up: the caller gets our BYE.
    await passed(picker);
    await passed(uac);
    expect(h.holds.slice(holdsBefore)).toEqual(HELD_THEN_NOT);
    await expectNothingLive();
    const call = await h.db.selectFrom('calls').selectAll().where('account_id', '=', h.accountId).where('from_number', '=', '101').where('to_number', '=', LINE).orderBy('started_at', 'desc').executeTakeFirstOrThrow();
    expect(call).toMatchObject({ result: 'answered', hangup_by: 'callee' });
    expect(await calleeLegs(call.id)).toEqual(
      [
        [desks[0]!.deviceId, 'transferred'],
        [desks[1]!.deviceId, 'answered'],
      ].sort(),
    );
  }, 90_000);
});
