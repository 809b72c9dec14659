import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createLogger } from '@carillon/config';
import { CALL_EVENTS_CHANNEL, callCommandChannel, parseCallEvent, type CallEvent } from '@carillon/contracts/call-control';
import { CallControlChannel } from '../../src/control/call-control-channel.ts';
import { CONFERENCE_EVENTS_CHANNEL, conferenceCommandChannel, conferenceOwnerKey, parseConferenceEvent, type ConferenceEvent } from '@carillon/contracts/conference-control';
import { DEFAULT_CONFERENCE_SETTINGS } from '@carillon/domain';
import { Conferences, ROOM_ONLY } from '../../src/apps/conference/conferences.ts';
import { RedisConferenceEvents } from '../../src/control/conference-ownership.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { freeMediaPort, freeSipPort, startRegisteredSipp, startSipp, type SippRun } from '../support/sipp.ts';
import { redisClient } from '../../../tests/support/env.ts';

/**
 * The node's end of the control channel on the real Redis: commands are checked against
 * the contract (a bad one is refused with a reason, never thrown), act only on this node's
 * calls of the command's account, and every command with an id gets its answer.
 */
let h: EdgeHarness;
let caller: TestPhone;
let callee: TestPhone;
let third: TestPhone;
let subscriber: Redis;
let events: Redis;
let channel: CallControlChannel;
const nodeId = `control-test-${randomUUID().slice(0, 8)}`;
const received: CallEvent[] = [];
const conferenceEvents: ConferenceEvent[] = [];
let conferences: Conferences;
const running: SippRun[] = [];
const requestedBy = { userId: randomUUID() };

beforeAll(async () => {
  h = await startEdge();
  caller = await h.addPhone('101');
  callee = await h.addPhone('102');
  third = await h.addPhone('103');
  subscriber = redisClient();
  events = redisClient();
  events.on('message', (_channel: string, message: string) => {
    const event = parseCallEvent(message);
    if (event) received.push(event);
  });
  events.on('message', (channel: string, message: string) => {
    const event = channel === CONFERENCE_EVENTS_CHANNEL ? parseConferenceEvent(message) : null;
    if (event) conferenceEvents.push(event);
  });
  await events.subscribe(CALL_EVENTS_CHANNEL, CONFERENCE_EVENTS_CHANNEL);
  conferences = new Conferences(new RedisConferenceEvents(h.redis, nodeId, createLogger('control-test', 'error')));
  channel = await CallControlChannel.start({
    subscriber,
    publisher: h.redis,
    nodeId,
    log: createLogger('control-test', 'error'),
    targets: { findCall: (callId) => h.edge.calls.byCallId(callId), configChanged: (c) => h.edge.invalidateAccountConfig(c.accountId, c.subjects), conferenceCommand: (c) => conferences.command(c) },
  });
});

afterEach(() => {
  for (const r of running.splice(0)) r.stop();
});

afterAll(async () => {
  await channel?.stop();
  subscriber?.disconnect();
  events?.disconnect();
  await h?.stop();
});

/** Publishes on this node's command channel and returns the answer to `commandId`. */
async function send(message: unknown, commandId: string): Promise<Extract<CallEvent, { type: 'command-result' }>> {
  expect(await h.redis.publish(callCommandChannel(nodeId), typeof message === 'string' ? message : JSON.stringify(message))).toBe(1);
  let answer: CallEvent | undefined;
  await expect.poll(() => (answer = received.find((e) => e.type === 'command-result' && e.commandId === commandId)), { timeout: 20_000, interval: 20 }).toBeDefined();
  return answer as Extract<CallEvent, { type: 'command-result' }>;
}

describe('control channel of a media-server node', () => {
  it('refuses a command the contract does not know, with the reason, and survives garbage', async () => {
    const commandId = randomUUID();
    // Neither of these can be answered (no ids): they are logged, and the channel goes on.
    await h.redis.publish(callCommandChannel(nodeId), 'not json');
    await h.redis.publish(callCommandChannel(nodeId), JSON.stringify({ type: 'hangup' }));
    await h.redis.publish(callCommandChannel(nodeId), JSON.stringify({ accountId: h.accountId, callId: 'x', commandId: randomUUID() }).slice(0, 20));
    const refused = await send({ commandId, accountId: h.accountId, callId: 'abc@host', requestedBy, type: 'self-destruct' }, commandId);
    expect(refused).toMatchObject({ outcome: 'refused', callId: 'abc@host' });
    expect(refused.reason).toMatch(/invalid command: type/);
    const transfer = randomUUID();
    expect((await send({ commandId: transfer, accountId: h.accountId, callId: 'abc@host', requestedBy, type: 'transfer', side: 'b', target: 'sip:evil@x' }, transfer)).reason).toMatch(/target/);
  });

  it('hangs up a live call of the account (both legs get a BYE), and answers "ended" for it afterwards and for another account', async () => {
    const phone = await startRegisteredSipp({ target: h.target, credentials: callee, scenario: 'uas-answer.xml' });
    running.push(phone);
    const call = startSipp({ scenario: 'uac-wait-bye.xml', target: h.target, localPort: await freeSipPort(), service: '102', auth: caller, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
    running.push(call);
    await expect.poll(() => h.edge.calls.calls().find((c) => c.state === 'Answered')?.aCallId, { timeout: 20_000, interval: 20 }).toBeDefined();
    const callId = h.edge.calls.calls()[0]!.aCallId;

    // Another account's command for this call: as if the call did not exist.
    const foreign = randomUUID();
    expect(await send({ commandId: foreign, accountId: randomUUID(), callId, requestedBy, type: 'hangup' }, foreign)).toMatchObject({ outcome: 'not_found', reason: 'the call has ended or is not on this node' });
    expect(h.edge.calls.byCallId(callId)?.state).toBe('Answered');

    const hangup = randomUUID();
    expect(await send({ commandId: hangup, accountId: h.accountId, callId, requestedBy, type: 'hangup' }, hangup)).toMatchObject({ outcome: 'done', callId });
    const [callerSide, calleeSide] = await Promise.all([call.done, phone.done]);
    expect(callerSide.code, callerSide.errors || callerSide.output.slice(-1500)).toBe(0);
    expect(calleeSide.code, calleeSide.errors || calleeSide.output.slice(-1500)).toBe(0);
    expect(await h.lastCall()).toMatchObject({ result: 'answered', hangup_by: 'control' });

    const late = randomUUID();
    expect(await send({ commandId: late, accountId: h.accountId, callId, requestedBy, type: 'hangup' }, late)).toMatchObject({ outcome: 'not_found', reason: 'the call has ended or is not on this node' });
  }, 60_000);

  it('starts and stops the recording of a live call, and says why when it cannot', async () => {
    const phone = await startRegisteredSipp({ target: h.target, credentials: callee, scenario: 'uas-answer.xml' });
    running.push(phone);
    const call = startSipp({ scenario: 'uac-wait-bye.xml', target: h.target, localPort: await freeSipPort(), service: '102', auth: caller, timeoutSeconds: 60, extra: ['-mp', String(await freeMediaPort())] });
    running.push(call);
    await expect.poll(() => h.edge.calls.calls().find((c) => c.state === 'Answered')?.aCallId, { timeout: 20_000, interval: 20 }).toBeDefined();
    const live = h.edge.calls.calls()[0]!;
    const command = async (type: 'start-recording' | 'stop-recording' | 'hangup') => {
      const commandId = randomUUID();
      return send({ commandId, accountId: h.accountId, callId: live.aCallId, requestedBy, type }, commandId);
    };
    const recordings = () => h.db.selectFrom('recordings').select(['id', 'duration_seconds']).where('call_id', '=', live.recordId!).execute();

    expect(await command('stop-recording')).toMatchObject({ outcome: 'refused', reason: 'the call is not being recorded' });
    await h.db.updateTable('accounts').set({ on_demand_recording: false }).where('id', '=', h.accountId).execute();
    h.configChanged('account');
    try {
      expect(await command('start-recording')).toMatchObject({ outcome: 'refused', reason: 'on-demand recording is disabled for this account' });
    } finally {
      await h.db.updateTable('accounts').set({ on_demand_recording: true }).where('id', '=', h.accountId).execute();
      h.configChanged('account');
    }
    expect(await recordings()).toEqual([]);

    expect(await command('start-recording')).toMatchObject({ outcome: 'done' });
    expect(await recordings()).toHaveLength(1);
    expect(await command('start-recording')).toMatchObject({ outcome: 'refused', reason: 'the call is already being recorded' });
    expect(await command('stop-recording')).toMatchObject({ outcome: 'done' });
    expect((await recordings())[0]!.duration_seconds).not.toBeNull();

    expect(await command('hangup')).toMatchObject({ outcome: 'done' });
    const [callerSide, calleeSide] = await Promise.all([call.done, phone.done]);
    expect(callerSide.code, callerSide.errors || callerSide.output.slice(-1500)).toBe(0);
    expect(calleeSide.code, calleeSide.errors || calleeSide.output.slice(-1500)).toBe(0);
  }, 90_000);

  it('hangs up a call still ringing: the caller gets a 480, the ringing phone a CANCEL', async () => {
    const phone = await startRegisteredSipp({ target: h.target, credentials: callee, scenario: 'uas-ring-cancelled.xml' });
    running.push(phone);
    const call = startSipp({ scenario: 'uac-unavailable.xml', target: h.target, localPort: await freeSipPort(), service: '102', auth: caller, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
    running.push(call);
    await expect.poll(() => h.edge.calls.calls().find((c) => c.state === 'Ringing')?.aCallId, { timeout: 20_000, interval: 20 }).toBeDefined();
    const ringing = h.edge.calls.calls()[0]!;
    const commandId = randomUUID();
    expect(await send({ commandId, accountId: h.accountId, callId: ringing.aCallId, requestedBy, type: 'hangup' }, commandId)).toMatchObject({ outcome: 'done' });
    const [callerSide, calleeSide] = await Promise.all([call.done, phone.done]);
    expect(callerSide.code, callerSide.errors || callerSide.output.slice(-1500)).toBe(0);
    expect(calleeSide.code, calleeSide.errors || calleeSide.output.slice(-1500)).toBe(0);
    expect(await h.lastCall()).toMatchObject({ result: 'cancelled', hangup_by: 'control' });
  }, 60_000);

  it('transfers the caller to another extension: the callee leaves with a BYE once the target answers', async () => {
    const phone = await startRegisteredSipp({ target: h.target, credentials: callee, scenario: 'uas-answer.xml' });
    const target = await startRegisteredSipp({ target: h.target, credentials: third, scenario: 'uas-answer.xml' });
    running.push(phone, target);
    const call = startSipp({ scenario: 'uac-wait-bye.xml', target: h.target, localPort: await freeSipPort(), service: '102', auth: caller, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
    running.push(call);
    await expect.poll(() => h.edge.calls.calls().find((c) => c.state === 'Answered')?.aCallId, { timeout: 20_000, interval: 20 }).toBeDefined();
    const live = h.edge.calls.calls()[0]!;
    const command = async (body: Record<string, unknown>) => {
      const commandId = randomUUID();
      return send({ commandId, accountId: h.accountId, callId: live.aCallId, requestedBy, ...body }, commandId);
    };

    expect(await command({ type: 'transfer', side: 'a', target: '199' })).toMatchObject({ outcome: 'refused', reason: 'the target cannot be reached (484 Address Incomplete)' });
    expect(await command({ type: 'transfer', side: 'a', target: '103' })).toMatchObject({ outcome: 'done' });
    // Extension 102 leaves (its scenario ends after the BYE it answers); 101 now talks to 103.
    const left = await phone.done;
    expect(left.code, left.errors || left.output.slice(-1500)).toBe(0);
    expect(h.edge.calls.byCallId(live.aCallId)?.state).toBe('Answered');

    expect(await command({ type: 'hangup' })).toMatchObject({ outcome: 'done' });
    const [callerSide, targetSide] = await Promise.all([call.done, target.done]);
    expect(callerSide.code, callerSide.errors || callerSide.output.slice(-1500)).toBe(0);
    expect(targetSide.code, targetSide.errors || targetSide.output.slice(-1500)).toBe(0);
  }, 90_000);

  it('conferences (the host\'s console): the node owns each in Redis while it runs, tells its changes, answers its commands, and refuses a bad one with the reason', async () => {
    const host = randomUUID();
    const conference = conferences.open(h.accountId, host, DEFAULT_CONFERENCE_SETTINGS);
    expect(JSON.parse((await h.redis.get(conferenceOwnerKey(h.accountId, host)))!)).toEqual({ nodeId, accountId: h.accountId });
    const mutes: boolean[] = [];
    const member = { role: 'host' as const, voice: ROOM_ONLY, selfMuted: false, who: { number: '101', name: 'Host' }, applyMute: (m: boolean) => (mutes.push(m), Promise.resolve()), end: () => undefined };
    conference.joined(member);
    await expect.poll(() => conferenceEvents.find((e) => e.type === 'member-joined' && e.hostExtensionId === host), { timeout: 5000, interval: 20 }).toBeDefined();

    const sendConference = async (body: Record<string, unknown>) => {
      const commandId = randomUUID();
      expect(await h.redis.publish(conferenceCommandChannel(nodeId), JSON.stringify({ commandId, accountId: h.accountId, hostExtensionId: host, requestedBy, ...body }))).toBe(1);
      let answer: ConferenceEvent | undefined;
      await expect.poll(() => (answer = conferenceEvents.find((e) => e.type === 'command-result' && e.commandId === commandId)), { timeout: 5000, interval: 20 }).toBeDefined();
      return answer as Extract<ConferenceEvent, { type: 'command-result' }>;
    };
    const roster = await sendConference({ type: 'roster' });
    expect(roster).toMatchObject({ outcome: 'done', roster: { locked: false, members: [{ role: 'host', number: '101', name: 'Host', muted: false, dialledOut: false }] } });
    const memberId = roster.roster!.members[0]!.id;
    expect(await sendConference({ type: 'mute', memberId, muted: true })).toMatchObject({ outcome: 'done' });
    expect(mutes).toEqual([true]);
    await expect.poll(() => conferenceEvents.find((e) => e.type === 'member-muted' && e.memberId === memberId && e.muted), { timeout: 5000, interval: 20 }).toBeDefined();
    expect(await sendConference({ type: 'lock', locked: true })).toMatchObject({ outcome: 'done' });
    await expect.poll(() => conferenceEvents.find((e) => e.type === 'locked' && e.hostExtensionId === host), { timeout: 5000, interval: 20 }).toMatchObject({ locked: true });
    // Bad shapes are refused with the reason; another conference and another member are not found.
    expect(await sendConference({ type: 'mute', memberId: 'all', muted: true })).toMatchObject({ outcome: 'refused', reason: expect.stringMatching(/memberId/) });
    expect(await sendConference({ type: 'dial-out', extension: { id: randomUUID(), number: 'sip:evil@x' } })).toMatchObject({ outcome: 'refused', reason: expect.stringMatching(/extension\.number/) });
    expect(await sendConference({ type: 'remove', memberId: randomUUID() })).toMatchObject({ outcome: 'no_member' });
    const other = randomUUID();
    const foreign = randomUUID();
    expect(await h.redis.publish(conferenceCommandChannel(nodeId), JSON.stringify({ commandId: foreign, accountId: randomUUID(), hostExtensionId: host, requestedBy, type: 'lock', locked: false }))).toBe(1);
    await expect.poll(() => conferenceEvents.find((e) => e.type === 'command-result' && e.commandId === foreign), { timeout: 5000, interval: 20 }).toMatchObject({ outcome: 'not_found' });
    expect(await sendConference({ type: 'roster', hostExtensionId: other })).toMatchObject({ outcome: 'not_found', hostExtensionId: other });

    // The last member leaves: the end is told and the owner key goes.
    await conference.left(member);
    await expect.poll(() => conferenceEvents.find((e) => e.type === 'ended' && e.hostExtensionId === host), { timeout: 5000, interval: 20 }).toBeDefined();
    await expect.poll(() => h.redis.get(conferenceOwnerKey(h.accountId, host)), { timeout: 5000, interval: 20 }).toBeNull();
  });
});
