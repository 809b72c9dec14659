import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMonitoringGroup } from '@carillon/core';
import { saveCallQueue } from '@carillon/core/queues';
import { DEFAULT_QUEUE_SETTINGS } from '@carillon/domain';
import { queueMemberKey, queueWaitingKey } from '@carillon/contracts/call-queues';
import { goertzelAmplitude } from '../../src/media/audio/goertzel.ts';
import { liveCounts } from '../../src/health.ts';
import type { B2buaCall } from '../../src/calls/b2bua/b2bua-call.ts';
import type { AppCall } from '../../src/calls/app-call.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { RtpPhone } from '../support/rtp-phone.ts';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp, startSipp, tellToHangUp, type SippRun } from '../support/sipp.ts';
import { startTonePeer, type TonePeer } from '../support/tone-peer.ts';

/**
 * Call monitoring (issue 15 point 6, MON-01) between SIPp phones through the SIP edge, with the
 * unreleased area 'monitoring' enabled for this edge only. 101 calls 102 (the agent); 103 monitors
 * 102 (a group lists 103 as a monitor and 102 as monitored); 104 is in no group (and is a transfer
 * target). Each party's media is a socket of the test sending a tone of its own (caller 600 Hz, agent
 * 900 Hz, monitor 1400 Hz), so who hears whom is read from the spectrum (Goertzel) of what each one
 * receives, per leg. A queue (600, with 'queues' enabled too) whose one agent is 102 gives the calls
 * answered by an application (AppCall bridged to the agent by bridgeTo) that a monitor joins the same way.
 */
let h: EdgeHarness;
const phones: Record<string, TestPhone> = {};
let queueId: string;
const CALLER_HZ = 600;
const AGENT_HZ = 900;
const MONITOR_HZ = 1400;
/** A tone heard: the peers send amplitude 6000–8000; through the bridge or the mix it stays far above this. */
const HEARD = 1000;
/** Not heard: a tenth of that (what leaks of the others' tones into a bin is far below it). */
const SILENT = HEARD / 10;

beforeAll(async () => {
  h = await startEdge({ unreleased: 'monitoring,queues', noAnswerSeconds: 20 });
  for (const n of ['101', '102', '103', '104']) phones[n] = await h.addPhone(n);
  await createMonitoringGroup(h.db, { userId: null, ip: null }, h.accountId, {
    name: 'Support coaching',
    monitorExtensionIds: [phones['103']!.extensionId],
    monitoredExtensionIds: [phones['102']!.extensionId],
  });
  const site = await h.db.selectFrom('sites').select('id').where('account_id', '=', h.accountId).where('is_main', '=', true).executeTakeFirstOrThrow();
  queueId = (await h.db.insertInto('extensions').values({ account_id: h.accountId, site_id: site.id, number: '600', type: 'call_queue', name: 'Support', status: 'activated' }).returning('id').executeTakeFirstOrThrow()).id;
  await saveCallQueue(h.db, { userId: null, ip: null }, h.accountId, queueId, { settings: { ...DEFAULT_QUEUE_SETTINGS, wrapUpSeconds: 0 }, members: [{ extension: '102', accepting: true }] });
  h.configChanged('queues');
}, 60_000);
afterAll(() => h?.stop());

const running: SippRun[] = [];
const sockets: { close(): void }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) r.stop();
  for (const s of sockets.splice(0)) s.close();
  // A test that failed half way leaves no call behind for the next (its agent would be busy, its call found first).
  for (const c of h.edge.calls.calls()) c.hangUpByCommand();
  await Promise.all(h.edge.calls.applicationCalls().map((c) => c.close()));
  await h.redis.del(queueWaitingKey(queueId), queueMemberKey(h.accountId, phones['102']!.extensionId));
});

async function peer(hz: number): Promise<TonePeer> {
  const p = await startTonePeer(hz);
  sockets.push(p);
  return p;
}

async function monitorPhone(hz: number): Promise<RtpPhone> {
  const p = await RtpPhone.open(hz);
  sockets.push(p);
  return p;
}

async function agent(socket: TonePeer, extension = '102'): Promise<SippRun> {
  await h.edge.bindings.removeAll(phones[extension]!.extensionId);
  const run = await startRegisteredSipp({ target: h.target, credentials: phones[extension]!, scenario: 'uas-socket-until-bye.xml', vars: { rtpport: String(socket.port) }, timeoutSeconds: 90 });
  running.push(run);
  return run;
}

async function dial(from: string, number: string, scenario: string, vars: Record<string, string>): Promise<SippRun> {
  const run = startSipp({ scenario, target: h.target, localPort: await freeSipPort(), service: number, auth: phones[from]!, timeoutSeconds: 90, vars, extra: ['-mp', String(await freeMediaPort())] });
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

/** Once the scenario logged our media port (from our SDP), its socket speaks to it: a phone talks without waiting to be spoken to. */
async function speakWhenConnected(run: SippRun, socket: TonePeer): Promise<void> {
  const port = await waitFor('our media port in a SIPp phone\'s log', () => /media port (\d+)/.exec(run.logsSoFar())?.[1], 30_000);
  socket.speakTo(Number(port));
}

/** The amplitude of `hz` in the last `ms` a socket heard. */
function level(who: TonePeer | RtpPhone, hz: number, ms = 600): number {
  if ('levelSince' in who) return who.levelSince(Date.now() - ms, hz);
  const since = Date.now() - ms;
  const chunks = who.heard.filter((x) => x.at >= since);
  const pcm = new Int16Array(chunks.reduce((n, c) => n + c.samples.length, 0));
  let at = 0;
  for (const c of chunks) {
    pcm.set(c.samples, at);
    at += c.samples.length;
  }
  return pcm.length ? goertzelAmplitude(pcm, hz, 8000) : 0;
}

const hears = (who: TonePeer | RtpPhone, hz: number) => level(who, hz) > HEARD;
const deaf = (who: TonePeer | RtpPhone, hz: number) => level(who, hz) < SILENT;

/** The longest time between two packets a socket heard after `since`: a gap in what its party hears. */
function longestGap(who: TonePeer, since: number, before = Date.now()): number {
  const times = who.heard.filter((x) => x.at >= since && x.at <= before).map((x) => x.at);
  let gap = 0;
  for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i]! - times[i - 1]!);
  return gap;
}

/**
 * This process's longest event-loop stall since the test's window opened (`stalls.reset()`): the tone
 * peers send and hear from this loop, so a stall of a busy machine shows as a gap they did not hear
 * from media-server. A gap is the product's only beyond it.
 */
const stalls = monitorEventLoopDelay({ resolution: 10 });
stalls.enable();
const NO_GAP_MS = 200;
const noGapBeyondStalls = () => NO_GAP_MS + stalls.max / 1e6;

const theCall = () => h.edge.calls.calls().find((c) => c.state === 'Answered') ?? null;
const monitored = (mode: string) => () => theCall()?.monitored?.mode === mode;

/** Each party hears the other, and (after a monitor left) not the monitor. */
async function twoParty(caller: TonePeer, agentSocket: TonePeer, what: string): Promise<void> {
  await waitFor(what, () => hears(caller, AGENT_HZ) && hears(agentSocket, CALLER_HZ) && deaf(caller, MONITOR_HZ) && deaf(agentSocket, MONITOR_HZ));
}

async function nothingLeft(): Promise<void> {
  await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
}

async function succeeded(run: SippRun, what: string): Promise<void> {
  const result = await run.done;
  expect(result.code, `${what}: ${result.errors || result.output.slice(-1500)}`).toBe(0);
}

describe('call monitoring by code', () => {
  it('*81 listens (hears both, not heard), 5 whispers (only the agent hears), 6 barges (three-way); when the monitor hangs up the two parties are back on their bridge with no gap', async () => {
    const a = await peer(CALLER_HZ);
    const b = await peer(AGENT_HZ);
    const callee = await agent(b);
    const caller = await dial('101', '102', 'uac-socket-until-bye.xml', { rtpport: String(a.port) });
    await Promise.all([speakWhenConnected(caller, a), speakWhenConnected(callee, b)]);
    await twoParty(a, b, 'the two parties hearing each other');
    const call = (await waitFor('the answered call', theCall)) as B2buaCall;
    expect(h.media.roomCount).toBe(0);

    // The monitor stays on until the checks below are done, then hangs up itself (its scenario's BYE, on the test's word).
    const m = await monitorPhone(MONITOR_HZ);
    const since = Date.now();
    stalls.reset();
    const monitor = await dial('103', '*81102', 'uac-talk-until-told.xml', { rtpport: String(m.port) });

    // Listen: the monitor hears both parties; neither hears the monitor; they still hear each other.
    await waitFor('listen', () => call.monitored?.mode === 'listen' && hears(m, CALLER_HZ) && hears(m, AGENT_HZ));
    expect(h.media.roomCount).toBe(1);
    await waitFor('a second of listening', () => Date.now() - since > 1000 && hears(a, AGENT_HZ) && hears(b, CALLER_HZ));
    expect(level(a, MONITOR_HZ, 1000), 'the caller hearing the listening monitor').toBeLessThan(SILENT);
    expect(level(b, MONITOR_HZ, 1000), 'the agent hearing the listening monitor').toBeLessThan(SILENT);
    expect(level(m, MONITOR_HZ, 1000), 'the monitor hearing itself').toBeLessThan(SILENT);

    // 5: whisper. The agent hears the monitor and the caller; the caller hears only the agent; the monitor both.
    m.press('5');
    await waitFor('whisper', () => monitored('whisper')() && hears(b, MONITOR_HZ) && hears(b, CALLER_HZ));
    const whisperAt = Date.now();
    await waitFor('a second of whispering', () => Date.now() - whisperAt > 1000);
    expect(level(b, MONITOR_HZ, 800), 'the agent hearing the whisper').toBeGreaterThan(HEARD);
    expect(level(a, MONITOR_HZ, 800), 'the caller hearing the whisper').toBeLessThan(SILENT);
    expect(level(a, AGENT_HZ, 800)).toBeGreaterThan(HEARD);
    expect(level(m, CALLER_HZ, 800)).toBeGreaterThan(HEARD);
    expect(level(m, AGENT_HZ, 800)).toBeGreaterThan(HEARD);

    // 6: barge. Everyone hears everyone else, and nobody itself.
    m.press('6');
    await waitFor('barge', () => monitored('barge')() && hears(a, MONITOR_HZ) && hears(b, MONITOR_HZ));
    const bargeAt = Date.now();
    await waitFor('a second of barging', () => Date.now() - bargeAt > 1000);
    for (const [who, own, others] of [
      [a, CALLER_HZ, [AGENT_HZ, MONITOR_HZ]],
      [b, AGENT_HZ, [CALLER_HZ, MONITOR_HZ]],
      [m, MONITOR_HZ, [CALLER_HZ, AGENT_HZ]],
    ] as const) {
      for (const hz of others) expect(level(who, hz, 800), `the party of ${own} Hz hearing ${hz} Hz`).toBeGreaterThan(HEARD);
      expect(level(who, own, 800), `the party of ${own} Hz hearing itself`).toBeLessThan(SILENT);
    }

    // The monitor hangs up: back to the two-party bridge, the room gone, and no gap for either party.
    await tellToHangUp(monitor);
    await succeeded(monitor, 'the monitor');
    const leftAt = Date.now();
    await twoParty(a, b, 'the two parties alone again');
    await waitFor('the room closed', () => h.media.roomCount === 0 && call.monitored === null);
    await waitFor('a second after the monitor left', () => Date.now() - leftAt > 1000);
    expect(longestGap(a, since), 'the longest silence the caller heard').toBeLessThan(noGapBeyondStalls());
    expect(longestGap(b, since), 'the longest silence the agent heard').toBeLessThan(noGapBeyondStalls());
    expect(h.media.liveCounts()).toMatchObject({ legs: 2, bridges: 1, rooms: 0 });

    // The call goes on as before and ends as before; the monitor's listening is a leg of it in the call log.
    expect(call.hangUpByCommand()).toBe(true);
    await succeeded(caller, 'the caller');
    await succeeded(callee, 'the agent');
    await nothingLeft();
    await expect.poll(async () => (await legsOf(call.recordId!)).map((l) => [l.role, l.result, l.device_id]).sort(), { timeout: 20_000, interval: 100 }).toEqual(
      [
        ['callee', 'answered', phones['102']!.deviceId],
        ['caller', 'answered', phones['101']!.deviceId],
        ['monitor', 'answered', phones['103']!.deviceId],
      ].sort(),
    );
  }, 180_000);

  it('*85 takes over: the agent gets a BYE, the caller and the monitor hear each other, and the monitor hanging up ends the call', async () => {
    const a = await peer(CALLER_HZ);
    const b = await peer(AGENT_HZ);
    const callee = await agent(b);
    const caller = await dial('101', '102', 'uac-socket-until-bye.xml', { rtpport: String(a.port) });
    await Promise.all([speakWhenConnected(caller, a), speakWhenConnected(callee, b)]);
    await twoParty(a, b, 'the two parties hearing each other');
    const call = (await waitFor('the answered call', theCall)) as B2buaCall;

    const m = await monitorPhone(MONITOR_HZ);
    const monitor = await dial('103', '*85102', 'uac-talk-until-told.xml', { rtpport: String(m.port) });
    // The agent is dropped (its scenario ends on our BYE).
    await succeeded(callee, 'the agent');
    b.close();
    await waitFor('the caller and the monitor hearing each other', () => hears(a, MONITOR_HZ) && hears(m, CALLER_HZ));
    const takenAt = Date.now();
    await waitFor('a second after the take-over', () => Date.now() - takenAt > 1000);
    expect(level(a, MONITOR_HZ, 800)).toBeGreaterThan(HEARD);
    expect(level(a, AGENT_HZ, 800), 'the caller still hearing the agent').toBeLessThan(SILENT);
    expect(level(m, CALLER_HZ, 800)).toBeGreaterThan(HEARD);
    // A plain two-party call again: the monitor's leg is on the bridge in the agent's place.
    expect(h.media.liveCounts()).toMatchObject({ legs: 2, bridges: 1, rooms: 0 });
    expect(theCall()?.monitored).toBeNull();

    await tellToHangUp(monitor);
    await succeeded(monitor, 'the monitor');
    await succeeded(caller, 'the caller');
    await nothingLeft();
    // The agent's leg ended when the monitor took its place; the monitor's leg is the call's callee side from then on.
    await expect.poll(async () => (await legsOf(call.recordId!)).map((l) => [l.role, l.result]).sort(), { timeout: 20_000, interval: 100 }).toEqual([['callee', 'transferred'], ['caller', 'answered'], ['monitor', 'answered']]);
  }, 120_000);

  it('*82 whispers from the start; when the caller hangs up the agent and the monitor get their BYE', async () => {
    const a = await peer(CALLER_HZ);
    const b = await peer(AGENT_HZ);
    const callee = await agent(b);
    const caller = await dial('101', '102', 'uac-talk-until-told.xml', { rtpport: String(a.port) });
    await Promise.all([speakWhenConnected(caller, a), speakWhenConnected(callee, b)]);
    await twoParty(a, b, 'the two parties hearing each other');

    const m = await monitorPhone(MONITOR_HZ);
    const monitor = await dial('103', '*82102', 'uac-listen-until-bye.xml', { rtpport: String(m.port) });
    await waitFor('whisper', () => monitored('whisper')() && hears(b, MONITOR_HZ) && hears(m, CALLER_HZ) && hears(m, AGENT_HZ));
    const at = Date.now();
    await waitFor('a second of whispering', () => Date.now() - at > 1000);
    expect(level(a, MONITOR_HZ, 800), 'the caller hearing the whisper').toBeLessThan(SILENT);
    expect(level(b, MONITOR_HZ, 800)).toBeGreaterThan(HEARD);

    await tellToHangUp(caller);
    await succeeded(caller, 'the caller');
    await succeeded(callee, 'the agent');
    await succeeded(monitor, 'the monitor');
    await nothingLeft();
  }, 120_000);

  it('a transfer of the monitored call ends the monitoring first: the monitor gets its BYE, and the caller talks to the transfer target', async () => {
    const TARGET_HZ = 1800;
    const a = await peer(CALLER_HZ);
    const b = await peer(AGENT_HZ);
    const t = await peer(TARGET_HZ);
    const callee = await agent(b);
    const caller = await dial('101', '102', 'uac-socket-until-bye.xml', { rtpport: String(a.port) });
    await Promise.all([speakWhenConnected(caller, a), speakWhenConnected(callee, b)]);
    await twoParty(a, b, 'the two parties hearing each other');
    const call = (await waitFor('the answered call', theCall)) as B2buaCall;

    const m = await monitorPhone(MONITOR_HZ);
    const monitor = await dial('103', '*83102', 'uac-listen-until-bye.xml', { rtpport: String(m.port) });
    await waitFor('barge', () => monitored('barge')() && hears(a, MONITOR_HZ) && hears(b, MONITOR_HZ));

    // The app transfers the caller to 104 (the control channel's blind transfer).
    const target = await agent(t, '104');
    expect(await call.transferByCommand('a', '104')).toBeNull();
    await succeeded(monitor, 'the monitor');
    expect(call.monitored).toBeNull();
    await speakWhenConnected(target, t);
    await succeeded(callee, 'the agent, replaced by the target');
    // Its phone's media stops, as a real phone's does (a socket still sending would keep the latch of the side it left).
    b.close();
    await waitFor('the caller and the target hearing each other', () => hears(a, TARGET_HZ) && hears(t, CALLER_HZ) && deaf(a, MONITOR_HZ));
    expect(h.media.liveCounts()).toMatchObject({ legs: 2, bridges: 1, rooms: 0 });

    expect(call.hangUpByCommand()).toBe(true);
    await succeeded(caller, 'the caller');
    await succeeded(target, 'the target');
    await nothingLeft();
  }, 120_000);

  it('refuses, with 403, a user no group lets monitor that user', async () => {
    const refused = await runSipp({ scenario: 'uac-forbidden.xml', target: h.target, localPort: await freeSipPort(), service: '*81102', auth: phones['104']!, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
    expect(refused.code, refused.errors || refused.output.slice(-1500)).toBe(0);
    // 102 monitors nobody either (monitored is not monitor).
    const backwards = await runSipp({ scenario: 'uac-forbidden.xml', target: h.target, localPort: await freeSipPort(), service: '*81103', auth: phones['102']!, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
    expect(backwards.code, backwards.errors || backwards.output.slice(-1500)).toBe(0);
    const results = async () => (await h.db.selectFrom('calls').select('result').where('account_id', '=', h.accountId).where('to_number', 'in', ['*81102', '*81103']).execute()).map((r) => r.result);
    await expect.poll(results, { timeout: 10_000, interval: 50 }).toEqual(['forbidden', 'forbidden']);
    await nothingLeft();
  }, 60_000);
});

/** The queue call answered by the agent: an application call bridged to 102. */
const theQueueCall = () => h.edge.calls.applicationCalls().find((c) => c.destination.kind === 'queue' && c.state === 'Answered') ?? null;

/** The call log's legs of the queue call, by role. */
async function legsOf(call: AppCall | string): Promise<{ role: string; device_id: string | null; answered_at: Date | null; ended_at: Date | null; result: string | null; rtp_stats: unknown }[]> {
  const id = typeof call === 'string' ? call : call.callRecordId!;
  return h.db.selectFrom('call_legs').select(['role', 'device_id', 'answered_at', 'ended_at', 'result', 'rtp_stats']).where('account_id', '=', h.accountId).where('call_id', '=', id).orderBy('started_at').execute();
}

describe('monitoring a call answered by an application (a queue call)', () => {
  it('*81 listens to the queue agent (hears caller and agent, not heard), 5 whispers (only the agent hears); the monitor hanging up leaves a two-party call and a monitor leg in the call log', async () => {
    const a = await peer(CALLER_HZ);
    const b = await peer(AGENT_HZ);
    const callee = await agent(b);
    const caller = await dial('101', '600', 'uac-socket-until-bye.xml', { rtpport: String(a.port) });
    await Promise.all([speakWhenConnected(caller, a), speakWhenConnected(callee, b)]);
    await twoParty(a, b, 'the caller and the queue agent hearing each other');
    const call = await waitFor('the answered queue call', theQueueCall);
    expect(h.edge.calls.calls(), 'no B2BUA call: the queue application answered').toHaveLength(0);

    const m = await monitorPhone(MONITOR_HZ);
    const since = Date.now();
    stalls.reset();
    const monitor = await dial('103', '*81102', 'uac-talk-until-told.xml', { rtpport: String(m.port) });
    await waitFor('listen', () => call.monitored?.mode === 'listen' && hears(m, CALLER_HZ) && hears(m, AGENT_HZ));
    expect(call.monitored).toMatchObject({ agentSide: 'b', monitorExtensionId: phones['103']!.extensionId });
    expect(h.media.roomCount).toBe(1);
    await waitFor('a second of listening', () => Date.now() - since > 1000 && hears(a, AGENT_HZ) && hears(b, CALLER_HZ));
    expect(level(a, MONITOR_HZ, 1000), 'the caller hearing the listening monitor').toBeLessThan(SILENT);
    expect(level(b, MONITOR_HZ, 1000), 'the agent hearing the listening monitor').toBeLessThan(SILENT);
    expect(level(m, CALLER_HZ, 1000), 'the monitor hearing the caller').toBeGreaterThan(HEARD);
    expect(level(m, AGENT_HZ, 1000), 'the monitor hearing the agent').toBeGreaterThan(HEARD);

    m.press('5');
    await waitFor('whisper', () => call.monitored?.mode === 'whisper' && hears(b, MONITOR_HZ) && hears(b, CALLER_HZ));
    const whisperAt = Date.now();
    await waitFor('a second of whispering', () => Date.now() - whisperAt > 1000);
    expect(level(b, MONITOR_HZ, 800), 'the agent hearing the whisper').toBeGreaterThan(HEARD);
    expect(level(a, MONITOR_HZ, 800), 'the caller hearing the whisper').toBeLessThan(SILENT);
    expect(level(a, AGENT_HZ, 800)).toBeGreaterThan(HEARD);
    expect(level(m, CALLER_HZ, 800)).toBeGreaterThan(HEARD);
    expect(level(m, AGENT_HZ, 800)).toBeGreaterThan(HEARD);

    // The monitor hangs up (its scenario's BYE, on the test's word): the two parties are back on their bridge, with no gap.
    await tellToHangUp(monitor);
    await succeeded(monitor, 'the monitor');
    const leftAt = Date.now();
    await twoParty(a, b, 'the caller and the agent alone again');
    await waitFor('the room closed', () => h.media.roomCount === 0 && call.monitored === null);
    await waitFor('a second after the monitor left', () => Date.now() - leftAt > 1000);
    expect(longestGap(a, since), 'the longest silence the caller heard').toBeLessThan(noGapBeyondStalls());
    expect(longestGap(b, since), 'the longest silence the agent heard').toBeLessThan(noGapBeyondStalls());
    expect(h.media.liveCounts()).toMatchObject({ legs: 2, bridges: 1, rooms: 0 });

    // The supervisor's listening is in the call log: a monitor leg from the monitor's device, answered and ended, with its media figures.
    await expect.poll(async () => (await legsOf(call)).find((l) => l.role === 'monitor')?.ended_at ?? null, { timeout: 20_000, interval: 100 }).not.toBeNull();
    const monitorLeg = (await legsOf(call)).find((l) => l.role === 'monitor')!;
    expect(monitorLeg).toMatchObject({ device_id: phones['103']!.deviceId, result: 'answered' });
    expect(monitorLeg.answered_at).not.toBeNull();
    expect((monitorLeg.rtp_stats as { sent: { packets: number } }).sent.packets, 'packets sent to the monitor').toBeGreaterThan(100);

    // The queue call goes on and ends as before.
    await call.close({ result: 'answered', hangupBy: 'control' });
    await succeeded(caller, 'the caller');
    await succeeded(callee, 'the agent');
    await nothingLeft();
    const roles = (await legsOf(call)).map((l) => l.role).sort();
    expect(roles).toEqual(['callee', 'caller', 'monitor']);
  }, 180_000);

  it('*82 whispers to the queue agent from the start; when the caller hangs up the agent and the monitor get their BYE', async () => {
    const a = await peer(CALLER_HZ);
    const b = await peer(AGENT_HZ);
    const callee = await agent(b);
    const caller = await dial('101', '600', 'uac-talk-until-told.xml', { rtpport: String(a.port) });
    await Promise.all([speakWhenConnected(caller, a), speakWhenConnected(callee, b)]);
    await twoParty(a, b, 'the caller and the queue agent hearing each other');
    const call = await waitFor('the answered queue call', theQueueCall);

    const m = await monitorPhone(MONITOR_HZ);
    const monitor = await dial('103', '*82102', 'uac-listen-until-bye.xml', { rtpport: String(m.port) });
    await waitFor('whisper', () => call.monitored?.mode === 'whisper' && hears(b, MONITOR_HZ) && hears(m, CALLER_HZ) && hears(m, AGENT_HZ));
    const at = Date.now();
    await waitFor('a second of whispering', () => Date.now() - at > 1000);
    expect(level(a, MONITOR_HZ, 800), 'the caller hearing the whisper').toBeLessThan(SILENT);
    expect(level(b, MONITOR_HZ, 800)).toBeGreaterThan(HEARD);
    expect(level(b, CALLER_HZ, 800)).toBeGreaterThan(HEARD);
    expect(level(a, AGENT_HZ, 800)).toBeGreaterThan(HEARD);

    await tellToHangUp(caller);
    await succeeded(caller, 'the caller');
    await succeeded(callee, 'the agent');
    await succeeded(monitor, 'the monitor');
    await nothingLeft();
    await expect.poll(async () => (await legsOf(call)).map((l) => [l.role, l.ended_at !== null]).sort(), { timeout: 20_000, interval: 100 }).toEqual([['callee', true], ['caller', true], ['monitor', true]]);
    const legs = await legsOf(call);
    expect(legs.find((l) => l.role === 'monitor')).toMatchObject({ device_id: phones['103']!.deviceId, result: 'answered' });
  }, 120_000);

  it('*85 takes the queue call over: the agent gets a BYE, the caller and the monitor hear each other, and the monitor hanging up ends the call', async () => {
    const a = await peer(CALLER_HZ);
    const b = await peer(AGENT_HZ);
    const callee = await agent(b);
    const caller = await dial('101', '600', 'uac-socket-until-bye.xml', { rtpport: String(a.port) });
    await Promise.all([speakWhenConnected(caller, a), speakWhenConnected(callee, b)]);
    await twoParty(a, b, 'the caller and the queue agent hearing each other');
    const call = await waitFor('the answered queue call', theQueueCall);

    const m = await monitorPhone(MONITOR_HZ);
    const monitor = await dial('103', '*85102', 'uac-talk-until-told.xml', { rtpport: String(m.port) });
    await succeeded(callee, 'the agent');
    b.close();
    await waitFor('the caller and the monitor hearing each other', () => hears(a, MONITOR_HZ) && hears(m, CALLER_HZ));
    const takenAt = Date.now();
    await waitFor('a second after the take-over', () => Date.now() - takenAt > 1000);
    expect(level(a, MONITOR_HZ, 800)).toBeGreaterThan(HEARD);
    expect(level(a, AGENT_HZ, 800), 'the caller still hearing the agent').toBeLessThan(SILENT);
    expect(level(m, CALLER_HZ, 800)).toBeGreaterThan(HEARD);
    expect(h.media.liveCounts()).toMatchObject({ legs: 2, bridges: 1, rooms: 0 });
    expect(call.monitored).toBeNull();

    // The monitor, now the callee, hangs up: the queue call ends and the caller gets its BYE.
    await tellToHangUp(monitor);
    await succeeded(monitor, 'the monitor');
    await succeeded(caller, 'the caller');
    await nothingLeft();
    await expect.poll(async () => (await legsOf(call)).map((l) => [l.role, l.result]).sort(), { timeout: 20_000, interval: 100 }).toEqual([['callee', 'transferred'], ['caller', 'answered'], ['monitor', 'answered']]);
  }, 120_000);
});
