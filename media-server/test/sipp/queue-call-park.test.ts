import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parkSlotKey } from '@carillon/contracts/park';
import { queueMemberKey, queueWaitingKey } from '@carillon/contracts/call-queues';
import { presenceField, presenceKey } from '@carillon/contracts/presence';
import { liveCounts } from '../../src/health.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { RtpPhone } from '../support/rtp-phone.ts';
import { queueWithPark } from '../support/queue-with-park.ts';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp, startSipp, type SippRun } from '../support/sipp.ts';

/**
 * Park from a call an application answered (issue 15 point 4, PK-01): a queue (600) offers 101's call
 * to its agent 102, a member of the park location 801 with 103; 104 is no member. The agent parks the
 * caller by REFER to 801 or by the park code keyed on its phone; the caller hears hold music; a second
 * park on 801 is refused; 103 retrieves the call by dialling 801. Each phone's media is a socket of the
 * test sending a tone of its own, so who hears whom is read from the spectrum of what each receives.
 * The agent's socket keeps sending after its phone left (as a phone whose BYE crossed): it is never
 * heard again (the leg's latch follows the retriever's dialog).
 */
let h: EdgeHarness;
const phones: Record<string, TestPhone> = {};
let queueId: string;
const CALLER_HZ = 600;
const AGENT_HZ = 900;
const RETRIEVER_HZ = 1400;
/** A tone heard through the bridge: the sockets send amplitude 6000. */
const HEARD = 1000;

beforeAll(async () => {
  // The recall is far off here: queue-call-park-recall.test.ts tests it.
  h = await startEdge({ unreleased: 'queues,park', noAnswerSeconds: 20, parkRecallSeconds: 300 });
  for (const n of ['101', '102', '103', '104', '105']) phones[n] = await h.addPhone(n);
  queueId = await queueWithPark(h, '102', [phones['102']!, phones['103']!]);
}, 60_000);
afterAll(() => h?.stop());

const running: SippRun[] = [];
const sockets: RtpPhone[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) r.stop();
  for (const s of sockets.splice(0)) s.close();
  for (const c of h.edge.calls.calls()) c.hangUpByCommand();
  await Promise.all(h.edge.calls.applicationCalls().map((c) => c.close()));
  await h.redis.del(queueWaitingKey(queueId), queueMemberKey(h.accountId, phones['102']!.extensionId));
  for (const n of ['102', '103']) await h.edge.bindings.removeAll(phones[n]!.extensionId);
});

async function rtp(tone: number | null): Promise<RtpPhone> {
  const phone = await RtpPhone.open(tone);
  sockets.push(phone);
  return phone;
}

async function registered(extension: string, scenario: string, vars: Record<string, string>): Promise<SippRun> {
  await h.edge.bindings.removeAll(phones[extension]!.extensionId);
  const run = await startRegisteredSipp({ target: h.target, credentials: phones[extension]!, scenario, vars, timeoutSeconds: 90 });
  running.push(run);
  return run;
}

async function dial(from: string, number: string, scenario: string, vars: Record<string, string> = {}): Promise<SippRun> {
  const run = startSipp({ scenario, target: h.target, localPort: await freeSipPort(), service: number, auth: phones[from]!, timeoutSeconds: 90, vars, extra: ['-mp', String(await freeMediaPort())] });
  running.push(run);
  await run.ready;
  return run;
}

async function passed(run: SippRun): Promise<string> {
  const r = await run.done;
  expect(r.code, r.errors || r.output.slice(-1500)).toBe(0);
  return r.logs;
}

const parkedOn = (location: string) => h.edge.calls.applicationCalls().find((c) => c.parkedOn === location) ?? null;
const parkKeys = () => h.redis.keys(parkSlotKey(h.accountId, '*'));

/** From `parkedAt` on, the caller hears hold music (steady packets with energy) and not the agent. */
async function hearsHoldMusic(caller: RtpPhone, parkedAt: number): Promise<void> {
  await expect.poll(() => caller.heardSince(parkedAt).length, { timeout: 20_000, interval: 50 }).toBeGreaterThan(8000);
  expect(caller.rmsSince(parkedAt), 'hold music').toBeGreaterThan(300);
  expect(caller.pureToneFramesSince(parkedAt + 200, AGENT_HZ), "the agent's tone while parked").toBeLessThan(3);
}

/** 103 dials 801 and talks: the parked caller and 103 hear each other, never the agent's socket (still sending). */
async function retrieve(caller: RtpPhone): Promise<SippRun> {
  const media = await rtp(RETRIEVER_HZ);
  const retrievedAt = Date.now();
  const run = await dial('103', '801', 'uac-talk-then-bye.xml', { rtpport: String(media.port), talkms: '5000' });
  await expect.poll(() => caller.pureToneFramesSince(retrievedAt, RETRIEVER_HZ), { timeout: 20_000, interval: 50 }).toBeGreaterThan(25);
  await expect.poll(() => media.levelSince(retrievedAt, CALLER_HZ), { timeout: 20_000, interval: 50 }).toBeGreaterThan(HEARD);
  expect(caller.pureToneFramesSince(retrievedAt, AGENT_HZ), "the agent's tone once retrieved").toBe(0);
  return run;
}

async function expectNothingLeft(): Promise<void> {
  await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
  expect(h.edge.calls.parking!.size).toBe(0);
  expect(await parkKeys()).toEqual([]);
}

const legsOf = async (callId: string) =>
  (await h.db.selectFrom('call_legs').select(['role', 'device_id', 'result']).where('call_id', '=', callId).where('role', '!=', 'caller').execute()).map((l) => [l.role, l.device_id, l.result]).sort();

describe('park from a queue call (an application call)', () => {
  it('the agent parks the caller on 801 by REFER (NOTIFY 200); hold music; a second park on 801 gets 486, a non-member 403; a member retrieves it and they hear each other', async () => {
    const agentMedia = await rtp(AGENT_HZ);
    const agent = await registered('102', 'uas-refer-outcome.xml', { target: '801', rtpport: String(agentMedia.port) });
    const callerMedia = await rtp(CALLER_HZ);
    const caller = await dial('101', '600', 'uac-socket-until-bye.xml', { rtpport: String(callerMedia.port) });
    expect(await passed(agent)).toContain('transfer to 801: progress SIP/2.0 100 then SIP/2.0 200');
    const parkedAt = Date.now();
    const call = await expect.poll(() => parkedOn('801'), { timeout: 20_000, interval: 50 }).not.toBeNull().then(() => parkedOn('801')!);
    expect(await parkKeys()).toHaveLength(1);
    expect(h.edge.calls.parking!.size).toBe(1);
    // The caller heard the agent before the park.
    expect(callerMedia.pureToneFramesSince(0, AGENT_HZ), 'the agent before the park').toBeGreaterThan(10);
    await hearsHoldMusic(callerMedia, parkedAt);

    // One call per location: 105 calls 103 (a B2BUA call), whose park on 801 is refused: NOTIFY 486, and the two stay connected until 103 hangs up.
    const secondParker = await registered('103', 'uas-refer-outcome.xml', { target: '801', rtpport: String((await rtp(null)).port) });
    const secondCaller = await dial('105', '103', 'uac-wait-bye.xml');
    expect(await passed(secondParker)).toContain('transfer to 801: progress SIP/2.0 100 then SIP/2.0 486');
    await passed(secondCaller);
    expect(parkedOn('801')).toBe(call);

    // 104 is no member of 801: 403, the call stays parked.
    const stranger = await runSipp({ scenario: 'uac-forbidden.xml', target: h.target, localPort: await freeSipPort(), service: '801', auth: phones['104']!, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
    expect(stranger.code, stranger.errors || stranger.output.slice(-1500)).toBe(0);
    expect(parkedOn('801')).toBe(call);

    const retriever = await retrieve(callerMedia);
    expect(call.parkedOn).toBeNull();
    expect(await parkKeys()).toEqual([]);
    // 103 hangs up: the caller gets our BYE.
    await passed(retriever);
    await passed(caller);
    await expectNothingLeft();
    const record = await h.db.selectFrom('calls').selectAll().where('account_id', '=', h.accountId).where('from_number', '=', '101').where('to_number', '=', '600').orderBy('started_at', 'desc').executeTakeFirstOrThrow();
    await expect.poll(async () => (await h.db.selectFrom('calls').select('result').where('id', '=', record.id).executeTakeFirstOrThrow()).result, { timeout: 20_000, interval: 50 }).toBe('answered');
    expect(await legsOf(record.id)).toEqual(
      [
        ['callee', phones['102']!.deviceId, 'transferred'],
        ['transfer_target', phones['103']!.deviceId, 'answered'],
      ].sort(),
    );
  }, 150_000);

  it('the agent keys *8 801 # (RFC 4733) and gets our BYE; the caller waits on hold music, then hangs up: the location is free and nothing stays live', async () => {
    const agentMedia = await rtp(AGENT_HZ);
    const agent = await registered('102', 'uas-socket-until-bye.xml', { rtpport: String(agentMedia.port) });
    const callerMedia = await rtp(CALLER_HZ);
    const caller = await dial('101', '600', 'uac-talk-then-bye.xml', { rtpport: String(callerMedia.port), talkms: '9000' });
    // Once connected (the caller hears the agent), the agent keys the code.
    await expect.poll(() => callerMedia.pureToneFramesSince(0, AGENT_HZ), { timeout: 30_000, interval: 50 }).toBeGreaterThan(10);
    agentMedia.press('*8801#');
    await passed(agent);
    const parkedAt = Date.now();
    await expect.poll(() => parkedOn('801'), { timeout: 20_000, interval: 50 }).not.toBeNull();
    await hearsHoldMusic(callerMedia, parkedAt);
    await passed(caller);
    await expectNothingLeft();
    const record = await h.lastCall();
    expect(record).toMatchObject({ from_number: '101', to_number: '600', result: 'answered', hangup_by: 'caller' });
    expect(await legsOf(record.id)).toEqual([['callee', phones['102']!.deviceId, 'transferred']]);
  }, 120_000);

  it('the park code by SIP INFO parks the caller as well; a member retrieves it', async () => {
    const agentMedia = await rtp(AGENT_HZ);
    const agent = await registered('102', 'uas-park-code.xml', { rtpport: String(agentMedia.port) });
    const callerMedia = await rtp(CALLER_HZ);
    const caller = await dial('101', '600', 'uac-socket-until-bye.xml', { rtpport: String(callerMedia.port) });
    expect(await passed(agent)).toContain('released by the park code');
    const parkedAt = Date.now();
    await expect.poll(() => parkedOn('801'), { timeout: 20_000, interval: 50 }).not.toBeNull();
    await hearsHoldMusic(callerMedia, parkedAt);
    await passed(await retrieve(callerMedia));
    await passed(caller);
    await expectNothingLeft();
  }, 120_000);
});

describe('a held queue call seen from outside', () => {
  it("the agent holds: the agent's presence counts the call held (in Redis too) until it resumes; the caller hears hold music meanwhile", async () => {
    const agentMedia = await rtp(AGENT_HZ);
    const agent = await registered('102', 'uas-hold-resume.xml', { rtpport: String(agentMedia.port), heldms: '3000' });
    const callerMedia = await rtp(CALLER_HZ);
    const caller = await dial('101', '600', 'uac-talk-then-bye.xml', { rtpport: String(callerMedia.port), talkms: '9000' });
    const agentExt = phones['102']!.extensionId;
    await expect.poll(() => agent.logsSoFar(), { timeout: 30_000, interval: 20 }).toMatch(/held a=recvonly/);
    const heldAt = Date.now();
    expect(h.edge.presence.activity(h.accountId, agentExt)).toEqual({ ringing: 0, onCall: 1, held: 1 });
    // What the app reads (each node's hash): the hold is there.
    const nodes = await h.redis.keys(presenceKey('*'));
    await expect.poll(async () => (await Promise.all(nodes.map((k) => h.redis.hget(k, presenceField(h.accountId, agentExt))))).some((v) => v !== null && (JSON.parse(v) as { held?: number }).held === 1), { timeout: 5000, interval: 20 }).toBe(true);
    await expect.poll(() => agent.logsSoFar(), { timeout: 30_000, interval: 20 }).toMatch(/resumed a=sendrecv/);
    const resumedAt = Date.now();
    expect(h.edge.presence.activity(h.accountId, agentExt)).toEqual({ ringing: 0, onCall: 1, held: 0 });
    expect(callerMedia.rmsSince(heldAt), 'hold music').toBeGreaterThan(300);
    expect(callerMedia.pureToneFramesSince(heldAt + 200, AGENT_HZ, resumedAt - 200), "the agent's tone while held").toBeLessThan(3);
    await passed(caller);
    await passed(agent);
    await expect.poll(() => h.edge.presence.activity(h.accountId, agentExt), { timeout: 20_000, interval: 50 }).toEqual({ ringing: 0, onCall: 0, held: 0 });
  }, 120_000);
});
