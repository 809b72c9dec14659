import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conferenceCodesOf, saveConferenceSettings } from '@carillon/core/conference';
import { DEFAULT_CONFERENCE_SETTINGS } from '@carillon/domain';
import { liveCounts } from '../../src/health.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { RtpPhone } from '../support/rtp-phone.ts';
import { analyseWav } from '../support/wav.ts';
import { freeMediaPort, freeSipPort, startSipp, type SippRun } from '../support/sipp.ts';

/**
 * The conference bridge by phone (issue 16), end to end on the live edge with the unreleased area
 * 'conference' enabled for this edge only. Each member is a SIPp phone (the signalling) dialling the
 * account's bridge number, whose SDP names the test's own RTP socket (RtpPhone: the media), which
 * sends a tone of its own frequency and its keys as RFC 4733 events, and keeps what it hears. Who
 * hears whom is checked by the spectrum (Goertzel) of what each phone receives.
 */
const HOST_TONE = 500;
const P1_TONE = 900;
const P2_TONE = 1300;
/** A tone heard through the room: the phones send amplitude 6000; the mix scales talkers down a little. */
const HEARD = 1000;

let h: EdgeHarness;
let host: TestPhone;
let p1: TestPhone;
let p2: TestPhone;
let p3: TestPhone;
let codes: { host: string; participant: string };
const BRIDGE = '+14155550188';

beforeAll(async () => {
  h = await startEdge({ unreleased: 'conference' });
  host = await h.addPhone('101');
  p1 = await h.addPhone('102');
  p2 = await h.addPhone('103');
  p3 = await h.addPhone('104');
  codes = (await conferenceCodesOf(h.db, h.accountId, host.extensionId))!;
  const number = await h.db.insertInto('phone_numbers').values({ account_id: h.accountId, e164: BRIDGE, type: 'additional_company', extension_id: null, site_id: null, nickname: null }).returning('id').executeTakeFirstOrThrow();
  await h.db.insertInto('conference_dial_ins').values({ phone_number_id: number.id, account_id: h.accountId }).execute();
  h.configChanged('numbers');
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

async function settings(joinBeforeHost: boolean) {
  // No enter or exit tones: they would cover what is measured.
  await saveConferenceSettings(h.db, { userId: null, ip: null }, h.accountId, host.extensionId, { ...DEFAULT_CONFERENCE_SETTINGS, joinBeforeHost, enterTone: false, exitTone: false });
}

interface Member {
  rtp: RtpPhone;
  sipp: SippRun;
}

/** A phone dials the bridge; once the code prompt reaches it, it keys `code` and `#`. */
async function dialIn(phone: TestPhone, tone: number | null, code: string): Promise<Member> {
  const rtp = await RtpPhone.open(tone);
  const sipp = startSipp({
    scenario: 'uac-listen-until-bye.xml',
    target: h.target,
    localPort: await freeSipPort(),
    service: BRIDGE,
    auth: phone,
    timeoutSeconds: 120,
    vars: { rtpport: String(rtp.port) },
    extra: ['-mp', String(await freeMediaPort())],
  });
  await until(() => rtp.connected, 'the access code prompt');
  rtp.press(`${code}#`);
  return { rtp, sipp };
}

async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The amplitude of `hz` in the last `ms` a phone heard. */
const recent = (m: Member, hz: number, ms = 600) => m.rtp.levelSince(Date.now() - ms, hz);

/** Every SIPp phone got its BYE (the scenario ends on it) and the node holds nothing. */
async function allHungUp(...members: Member[]): Promise<void> {
  for (const m of members) {
    const result = await m.sipp.done;
    m.rtp.close();
    expect(result.code, result.errors || result.output.slice(-1500)).toBe(0);
  }
  await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
  expect(h.edge.calls.rooms.size).toBe(0);
}

/** The host and two participants dial in, each sending its own tone. */
async function threeTalking(): Promise<[Member, Member, Member, [Member, number][]]> {
  const a = await dialIn(host, HOST_TONE, codes.host);
  const b = await dialIn(p1, P1_TONE, codes.participant);
  const c = await dialIn(p2, P2_TONE, codes.participant);
  return [a, b, c, [[a, HOST_TONE], [b, P1_TONE], [c, P2_TONE]]];
}

/** Each member hears the tones of all the others now. */
const everyoneHearsTheOthers = (members: [Member, number][]) => members.every(([m, own]) => members.every(([, tone]) => tone === own || recent(m, tone) > HEARD));

describe('the conference bridge by phone', () => {
  it('3 phones: each hears the other two and not itself; a muted member is not heard; *2 speaks the count; the host\'s *3 ends it for everyone', async () => {
    await settings(false);
    const [a, b, c, members] = await threeTalking();
    const hearsOthers = () => everyoneHearsTheOthers(members);
    await until(hearsOthers, 'every member hearing the two others', 45_000);
    for (const [m, own] of members) {
      const others = members.filter(([, t]) => t !== own).map(([, t]) => recent(m, t, 1000));
      expect(Math.min(...others), `what the member of ${own} Hz hears of the others`).toBeGreaterThan(HEARD);
      // N−1: its own voice is not sent back to it.
      expect(recent(m, own, 1000), `the member of ${own} Hz hearing itself`).toBeLessThan(Math.min(...others) / 10);
    }

    // *6: the member of 1300 Hz mutes itself; the two others stop hearing it and still hear each other.
    c.rtp.press('*6');
    await until(() => recent(a, P2_TONE) < HEARD / 10 && recent(b, P2_TONE) < HEARD / 10, 'the muted member gone from the mix');
    expect(recent(a, P1_TONE)).toBeGreaterThan(HEARD);
    expect(recent(b, HOST_TONE)).toBeGreaterThan(HEARD);

    // *2: the count is spoken to the member who asked, instead of the mix for a while (speech: energy without the host's tone).
    b.rtp.press('*2');
    await until(() => b.rtp.rmsSince(Date.now() - 400) > 300 && recent(b, HOST_TONE, 400) < HEARD / 4, 'the count spoken to the member who asked');
    // ...and then the mix again.
    await until(() => recent(b, HOST_TONE) > HEARD, 'the mix after the count');

    // The host's *3: every leg gets a BYE, the room is closed.
    a.rtp.press('*3');
    await allHungUp(a, b, c);
  }, 180_000);

  it('without join before host, participants hear music and not each other until the host joins', async () => {
    await settings(false);
    const b = await dialIn(p1, P1_TONE, codes.participant);
    const c = await dialIn(p2, P2_TONE, codes.participant);
    // Both waiting: music (energy) to each, and neither hears the other's tone.
    const since = Date.now();
    await until(() => b.rtp.keysSent && c.rtp.keysSent && h.edge.calls.rooms.size === 1, 'both participants in the room');
    await until(() => b.rtp.rmsSince(Date.now() - 1000) > 300 && c.rtp.rmsSince(Date.now() - 1000) > 300, 'the music');
    const waitingStart = Date.now();
    await until(() => Date.now() - waitingStart > 1500 && c.rtp.rmsSince(Date.now() - 1500) > 300, 'a second and a half of music');
    const waitingLevel = b.rtp.levelSince(waitingStart, P2_TONE);
    const waitingLevelC = c.rtp.levelSince(waitingStart, P1_TONE);
    expect(since).toBeLessThan(waitingStart);

    const a = await dialIn(host, HOST_TONE, codes.host);
    await until(() => recent(b, P2_TONE) > HEARD && recent(b, HOST_TONE) > HEARD && recent(c, P1_TONE) > HEARD, 'the participants hearing each other and the host');
    // What they heard of each other while waiting was not the other's voice (only whatever the music holds at that frequency).
    expect(waitingLevel).toBeLessThan(recent(b, P2_TONE, 1000) / 5);
    expect(waitingLevelC).toBeLessThan(recent(c, P1_TONE, 1000) / 5);

    a.rtp.press('*3');
    await allHungUp(a, b, c);
  }, 180_000);

  it('a wrong access code three times ends the call with an announcement', async () => {
    const wrong = ['000001', '000002', '000003'].find((x) => x !== codes.host && x !== codes.participant)!;
    const m = await dialIn(p3, null, wrong);
    const since = Date.now();
    m.rtp.press(`${wrong}#${wrong}#`);
    const result = await m.sipp.done;
    m.rtp.close();
    expect(result.code, result.errors || result.output.slice(-1500)).toBe(0);
    // The prompts and the goodbye were heard.
    expect(m.rtp.rmsSince(since)).toBeGreaterThan(300);
    expect(await h.lastCall()).toMatchObject({ to_number: BRIDGE, result: 'answered', hangup_by: 'callee' });
    expect(h.edge.calls.rooms.size).toBe(0);
  }, 120_000);

  it('*7 locks the conference: a joiner is refused with an announcement; the host\'s *7 again opens it', async () => {
    await settings(true);
    const a = await dialIn(host, HOST_TONE, codes.host);
    await until(() => h.edge.calls.rooms.size === 1 && a.rtp.keysSent, 'the host in the room');
    a.rtp.press('*7');
    await until(() => a.rtp.keysSent, 'the lock keyed');
    // The lock is spoken to the host: speech rather than silence (alone, it hears nothing of the room).
    await until(() => a.rtp.rmsSince(Date.now() - 400) > 300, 'the lock announced');
    const refused = await dialIn(p1, P1_TONE, codes.participant);
    const result = await refused.sipp.done;
    refused.rtp.close();
    expect(result.code, 'the refused joiner got its BYE').toBe(0);
    expect(refused.rtp.rmsSince(0)).toBeGreaterThan(300);
    // Never in the room: the host heard nothing of its tone.
    expect(a.rtp.levelSince(0, P1_TONE)).toBeLessThan(HEARD / 4);

    a.rtp.press('*7');
    const b = await dialIn(p2, P2_TONE, codes.participant);
    await until(() => recent(a, P2_TONE) > HEARD, 'the next joiner heard once open again');
    a.rtp.press('*3');
    await allHungUp(a, b);
  }, 180_000);

  it('*5 cycles the listening modes: callers muted (a caller unmutes itself with *6), listen only (*6 refused), open again', async () => {
    await settings(true);
    const a = await dialIn(host, HOST_TONE, codes.host);
    const b = await dialIn(p1, P1_TONE, codes.participant);
    await until(() => recent(a, P1_TONE) > HEARD && recent(b, HOST_TONE) > HEARD, 'host and caller hearing each other');
    // 1×: the caller is muted.
    a.rtp.press('*5');
    await until(() => recent(a, P1_TONE) < HEARD / 10, 'the caller muted by *5');
    // ...and unmutes itself with *6.
    b.rtp.press('*6');
    await until(() => recent(a, P1_TONE) > HEARD, 'the caller unmuted by its own *6');
    // 2×: listen only; the caller's *6 is refused.
    a.rtp.press('*5');
    await until(() => recent(a, P1_TONE) < HEARD / 10, 'listen only');
    b.rtp.press('*6');
    await until(() => b.rtp.keysSent, 'the refused *6 keyed');
    const refusedAt = Date.now();
    await until(() => Date.now() - refusedAt > 1500, 'a second and a half after the refused *6');
    expect(a.rtp.levelSince(refusedAt, P1_TONE), 'a caller in listen-only mode is not heard after its *6').toBeLessThan(HEARD / 10);
    // 3×: the line opens again.
    a.rtp.press('*5');
    await until(() => recent(a, P1_TONE) > HEARD, 'the line open again');
    expect(recent(b, HOST_TONE)).toBeGreaterThan(0);
    a.rtp.press('*3');
    await allHungUp(a, b);
  }, 180_000);

  it('plays the enter tone to the members as someone joins; *8 cycles it off', async () => {
    await saveConferenceSettings(h.db, { userId: null, ip: null }, h.accountId, host.extensionId, { ...DEFAULT_CONFERENCE_SETTINGS, joinBeforeHost: true, enterTone: true, exitTone: true });
    const a = await dialIn(host, null, codes.host);
    await until(() => h.edge.calls.rooms.size === 1 && a.rtp.keysSent, 'the host in the room');
    const beforeFirst = Date.now();
    const b = await dialIn(p1, null, codes.participant);
    await until(() => a.rtp.peakFrameLevelSince(beforeFirst, 1400) > HEARD, 'the enter tone heard by the host');
    // *8 from all on: 1× turns every sound off; the host hears its state spoken.
    a.rtp.press('*8');
    await until(() => a.rtp.keysSent, 'the *8 keyed');
    await until(() => a.rtp.rmsSince(Date.now() - 400) > 300, 'the tone state spoken');
    await until(() => a.rtp.rmsSince(Date.now() - 600) < 100, 'the announcement over');
    const beforeSecond = Date.now();
    const c = await dialIn(p2, null, codes.participant);
    const ref = { accountId: h.accountId, roomId: `conference:${host.extensionId}` };
    await until(() => h.edge.calls.rooms.members(ref) === 3, 'the third member taking its seat');
    // Then a second in which its enter tone would have been heard.
    const seated = Date.now();
    await until(() => Date.now() - seated > 1000, 'a second after the third member joined');
    expect(a.rtp.peakFrameLevelSince(beforeSecond, 1400, Date.now()), 'no enter tone once the sounds are off').toBeLessThan(HEARD / 4);
    a.rtp.press('*3');
    await allHungUp(a, b, c);
  }, 180_000);

  it('a participant has only the commands the seed gives them: *7 is refused (spoken) and locks nothing; *4 speaks the menu', async () => {
    await settings(true);
    const a = await dialIn(host, HOST_TONE, codes.host);
    const b = await dialIn(p1, P1_TONE, codes.participant);
    await until(() => recent(b, HOST_TONE) > HEARD, 'the participant hearing the host');
    b.rtp.press('*7');
    // "Only the host can do that": speech instead of the mix.
    await until(() => b.rtp.rmsSince(Date.now() - 400) > 300 && recent(b, HOST_TONE, 400) < HEARD / 4, 'the refusal spoken');
    await until(() => recent(b, HOST_TONE) > HEARD, 'the mix after the refusal');
    // Not locked: the next caller gets in and is heard.
    const c = await dialIn(p2, P2_TONE, codes.participant);
    await until(() => recent(a, P2_TONE) > HEARD, 'the next caller heard: the conference is not locked');
    b.rtp.press('*4');
    await until(() => b.rtp.rmsSince(Date.now() - 400) > 300 && recent(b, HOST_TONE, 400) < HEARD / 4, 'the menu spoken');
    a.rtp.press('*3');
    await allHungUp(a, b, c);
  }, 180_000);

  it("the host's *9 records the room's mix, every voice in it, announced to all; *9 again stops it; a participant's *9 is refused; the host's *3 stores one still running", async () => {
    await settings(true);
    const [a, b, c, members] = await threeTalking();
    await until(() => everyoneHearsTheOthers(members), 'every member hearing the two others', 45_000);
    const rows = () => h.db.selectFrom('recordings').selectAll().where('account_id', '=', h.accountId).orderBy('started_at').execute();
    type Row = Awaited<ReturnType<typeof rows>>[number];
    /** The recording row `pick` finds, once it does. */
    const row = async (pick: (all: Row[]) => Row | undefined, what: string): Promise<Row> => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const found = pick(await rows());
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const before = (await rows()).length;

    // A participant's *9: "only the host can do that", spoken to it, and nothing recorded.
    b.rtp.press('*9');
    await until(() => b.rtp.rmsSince(Date.now() - 400) > 300 && recent(b, HOST_TONE, 400) < HEARD / 4, 'the refusal spoken');
    await until(() => recent(b, HOST_TONE) > HEARD, 'the mix after the refusal');
    expect(await rows()).toHaveLength(before);

    // The host's *9: every member hears the announcement (speech instead of the mix for a while), and a recording starts on the host's call.
    const pressed = Date.now();
    a.rtp.press('*9');
    await until(() => [b, c].every((m) => m.rtp.rmsSince(Date.now() - 400) > 300 && recent(m, HOST_TONE, 400) < HEARD / 4), 'the start announced to the participants');
    const recording = await row((r) => r[before], 'the recording row');
    const hostCall = await h.db.selectFrom('calls').select(['id', 'to_number']).where('id', '=', recording.call_id).executeTakeFirstOrThrow();
    expect(hostCall.to_number).toBe(BRIDGE);
    expect(recording.started_by_extension_id).toBe(host.extensionId);
    expect(recording.storage_path).toContain(`/recordings/${h.accountId}/${hostCall.id}-`);
    // All three talk for a few seconds after the announcements (the mix is back for everyone).
    await until(() => everyoneHearsTheOthers(members), 'the mix back for everyone');
    const talking = Date.now();
    await until(() => Date.now() - talking > 3000, 'three seconds of everyone talking');

    // *9 again: stopped, announced, and the row given its length.
    a.rtp.press('*9');
    await until(() => b.rtp.rmsSince(Date.now() - 400) > 300 && recent(b, HOST_TONE, 400) < HEARD / 4, 'the stop announced');
    const stopped = await row((r) => (r[before]?.duration_seconds != null ? r[before] : undefined), 'the recording stored with its length');
    expect(stopped.duration_seconds).toBeGreaterThanOrEqual(3);
    expect(stopped.duration_seconds).toBeLessThanOrEqual(Math.ceil((Date.now() - pressed) / 1000));
    // The file holds every voice: each member's tone is a clear part of its spectrum.
    const file = stopped.storage_path;
    expect(analyseWav(file, HOST_TONE).seconds).toBeGreaterThanOrEqual(3);
    for (const [, tone] of members) expect(analyseWav(file, tone).toneShare, `the ${tone} Hz voice in the recording`).toBeGreaterThan(0.1);

    // A second recording, still running when the host ends the conference: stored all the same.
    await until(() => recent(b, HOST_TONE) > HEARD, 'the mix after the stop');
    a.rtp.press('*9');
    await row((r) => r[before + 1], 'the second recording row');
    const secondAt = Date.now();
    await until(() => Date.now() - secondAt > 2000, 'two seconds of the second recording');
    a.rtp.press('*3');
    await allHungUp(a, b, c);
    const [, last] = (await rows()).slice(before);
    expect(last!.duration_seconds).toBeGreaterThanOrEqual(1);
    expect(analyseWav(last!.storage_path, P1_TONE).toneShare).toBeGreaterThan(0.1);
  }, 180_000);

  it('with names announced, records the joiner\'s name after the beep and plays it to the others as it joins', async () => {
    await saveConferenceSettings(h.db, { userId: null, ip: null }, h.accountId, host.extensionId, { ...DEFAULT_CONFERENCE_SETTINGS, joinBeforeHost: true, enterTone: false, exitTone: false, announceNames: true });
    const a = await dialIn(host, null, codes.host);
    // The host records a name too: '#' at once, an empty name.
    await until(() => a.rtp.keysSent && a.rtp.peakFrameLevelSince(0, 1000) > HEARD, 'the beep before the host\'s name');
    a.rtp.press('#');
    await until(() => h.edge.calls.rooms.size === 1, 'the host in the room');
    const NAME_TONE = 700;
    const b = await dialIn(p1, NAME_TONE, codes.participant);
    await until(() => b.rtp.keysSent && b.rtp.peakFrameLevelSince(0, 1000) > HEARD, 'the beep before the name');
    const beep = Date.now();
    // "Saying" the name: a second of the tone after the beep, then '#', then silence.
    await until(() => Date.now() - beep > 1000, 'a second of name');
    b.rtp.press('#');
    await until(() => b.rtp.keysSent, 'the # keyed');
    b.rtp.tone = null;
    const silentFrom = Date.now();
    // The host hears the name (the tone, played from the recording) once the participant is in, though the participant is silent now.
    await until(() => a.rtp.peakFrameLevelSince(silentFrom + 200, NAME_TONE) > HEARD, 'the name announced to the host');
    a.rtp.press('*3');
    await allHungUp(a, b);
  }, 180_000);
});
