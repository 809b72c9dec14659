import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parkSlotKey } from '@carillon/contracts/park';
import { queueMemberKey, queueWaitingKey } from '@carillon/contracts/call-queues';
import { liveCounts } from '../../src/health.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { RtpPhone } from '../support/rtp-phone.ts';
import { queueWithPark } from '../support/queue-with-park.ts';
import { freeMediaPort, freeSipPort, startRegisteredSipp, startSipp, type SippRun } from '../support/sipp.ts';

/**
 * The recall of a caller a queue agent parked (issue 15, PK-01), after the recall time (3 s here): the
 * agent's phone parks the queue call on 801 by REFER and hangs up, then gets the recall as a new INVITE
 * from "Park 801", answers it and talks with the caller (each hears the other's tone); nobody answering,
 * the call ends and the location is free.
 */
let h: EdgeHarness;
const phones: Record<string, TestPhone> = {};
let queueId: string;
const CALLER_HZ = 600;
const AGENT_HZ = 900;

beforeAll(async () => {
  h = await startEdge({ unreleased: 'queues,park', noAnswerSeconds: 20, parkRecallSeconds: 3 });
  for (const n of ['101', '102']) phones[n] = await h.addPhone(n);
  queueId = await queueWithPark(h, '102', [phones['102']!]);
}, 60_000);
afterAll(() => h?.stop());

const running: SippRun[] = [];
const sockets: RtpPhone[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) r.stop();
  for (const s of sockets.splice(0)) s.close();
  await Promise.all(h.edge.calls.applicationCalls().map((c) => c.close()));
  await h.redis.del(queueWaitingKey(queueId), queueMemberKey(h.accountId, phones['102']!.extensionId));
  await h.edge.bindings.removeAll(phones['102']!.extensionId);
});

async function rtp(tone: number | null): Promise<RtpPhone> {
  const phone = await RtpPhone.open(tone);
  sockets.push(phone);
  return phone;
}

async function passed(run: SippRun): Promise<string> {
  const r = await run.done;
  expect(r.code, r.errors || r.output.slice(-1500)).toBe(0);
  return r.logs;
}

async function callQueue(media: RtpPhone): Promise<SippRun> {
  const run = startSipp({ scenario: 'uac-socket-until-bye.xml', target: h.target, localPort: await freeSipPort(), service: '600', auth: phones['101']!, timeoutSeconds: 90, vars: { rtpport: String(media.port) }, extra: ['-mp', String(await freeMediaPort())] });
  running.push(run);
  return run;
}

const parkedOn = (location: string) => h.edge.calls.applicationCalls().find((c) => c.parkedOn === location) ?? null;

async function expectNothingLeft(): Promise<void> {
  await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
  expect(h.edge.calls.parking!.size).toBe(0);
  expect(await h.redis.exists(parkSlotKey(h.accountId, '801'))).toBe(0);
}

describe('park recall of a queue call', () => {
  it('rings the agent who parked it with "Park 801" when nobody retrieves it; the agent answers and they hear each other', async () => {
    const agentMedia = await rtp(AGENT_HZ);
    // Two calls for the agent's SIPp: the queue call it answers and parks, then the recall.
    const agent = await startRegisteredSipp({ target: h.target, credentials: phones['102']!, scenario: 'uas-park-then-recall.xml', vars: { target: '801', rtpport: String(agentMedia.port), talkms: '5000' }, calls: 2, timeoutSeconds: 90 });
    running.push(agent);
    const callerMedia = await rtp(CALLER_HZ);
    const caller = await callQueue(callerMedia);
    await expect.poll(() => parkedOn('801'), { timeout: 30_000, interval: 50 }).not.toBeNull();
    const call = parkedOn('801')!;
    expect(await h.redis.exists(parkSlotKey(h.accountId, '801'))).toBe(1);
    const parkedAt = Date.now();
    await expect.poll(() => agent.logsSoFar(), { timeout: 30_000, interval: 50 }).toMatch(/recall answered: Park 801/);
    const recalledAt = Date.now();
    // The recall is a new dialog with a media port of its own: the agent's phone sends there now.
    agentMedia.newDialog();
    // Parked: hold music until the recall was answered.
    expect(callerMedia.rmsSince(parkedAt), 'hold music').toBeGreaterThan(300);
    await expect.poll(() => callerMedia.pureToneFramesSince(recalledAt, AGENT_HZ), { timeout: 20_000, interval: 50 }).toBeGreaterThan(25);
    await expect.poll(() => agentMedia.levelSince(recalledAt, CALLER_HZ), { timeout: 20_000, interval: 50 }).toBeGreaterThan(1000);
    expect(call.parkedOn).toBeNull();
    expect(await h.redis.exists(parkSlotKey(h.accountId, '801'))).toBe(0);
    // The agent hangs up after talking: the caller gets our BYE.
    await passed(agent);
    await passed(caller);
    await expectNothingLeft();
    const record = await h.lastCall();
    expect(record).toMatchObject({ from_number: '101', to_number: '600', result: 'answered' });
  }, 120_000);

  it('ends the parked call when the agent does not take it back: the caller gets a BYE, the location is free', async () => {
    const agentMedia = await rtp(AGENT_HZ);
    // One call only: the agent's phone is gone when the recall rings (its registration removed): nobody to ring.
    const agent = await startRegisteredSipp({ target: h.target, credentials: phones['102']!, scenario: 'uas-refer-outcome.xml', vars: { target: '801', rtpport: String(agentMedia.port) }, timeoutSeconds: 60 });
    running.push(agent);
    const callerMedia = await rtp(CALLER_HZ);
    const caller = await callQueue(callerMedia);
    expect(await passed(agent)).toContain('transfer to 801: progress SIP/2.0 100 then SIP/2.0 200');
    await h.edge.bindings.removeAll(phones['102']!.extensionId);
    await passed(caller);
    await expectNothingLeft();
    const record = await h.lastCall();
    expect(record).toMatchObject({ from_number: '101', to_number: '600', result: 'answered', hangup_by: 'callee' });
  }, 120_000);
});
