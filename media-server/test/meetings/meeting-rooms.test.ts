import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@carillon/config';
import type { MeetingCommand } from '@carillon/contracts/meeting-control';
import { MeetingRooms } from '../../src/meetings/meeting-rooms.ts';
import { SfuThread } from '../../src/sfu/index.ts';
import { OPUS } from '../sfu/support/werift-sfu-client.ts';

/**
 * A node's meetings on a real SFU thread (issue 17): the seats of a meeting, the account a meeting
 * belongs to, one transport per direction, a consumer only of another peer's producer of the same
 * meeting, and what the others are told when a peer produces and leaves. Media through the rooms is
 * tested end to end in tests/browser/meeting-join.test.ts.
 */
let sfu: SfuThread;
let rooms: MeetingRooms;
const told: { meetingId: string; type: string }[] = [];
const ended: string[] = [];
const accountId = randomUUID();

beforeAll(async () => {
  sfu = await SfuThread.start();
  const server = await sfu.createWebRtcServer([{ ip: '127.0.0.1', port: 0 }]);
  rooms = new MeetingRooms({ sfu, webRtcServerId: server.id, log: createLogger('test', 'error'), publish: (meetingId, _a, change) => told.push({ meetingId, type: change.type }), ended: (m) => ended.push(m), maxPeers: 2 });
});
afterAll(async () => {
  await sfu?.stop();
});

const base = (meetingId: string, peerId: string, account = accountId) => ({ commandId: randomUUID(), accountId: account, meetingId, peerId });
const run = (c: MeetingCommand) => rooms.command(c);
const join = (meetingId: string, peerId: string, account = accountId) => run({ ...base(meetingId, peerId, account), type: 'join', userId: randomUUID(), displayName: 'x' });
const audio = (ssrc: number) => ({ codecs: [OPUS], encodings: [{ ssrc }] });

describe('meeting rooms', () => {
  it('seats, scopes and bounds peers, and consumes only within the meeting', async () => {
    const [m1, m2] = [randomUUID(), randomUUID()];
    const [a, b, c, d] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    expect(await join(m1, a)).toEqual({ outcome: 'done', peers: [] });
    expect((await join(m1, b)).peers?.map((p) => p.peerId)).toEqual([a]);
    expect((await join(m1, c)).outcome).toBe('meeting_full');
    // Another account cannot reach the meeting, even by its id.
    expect((await join(m1, c, randomUUID())).outcome).toBe('not_found');
    expect((await run({ ...base(m1, c), type: 'create-transport', direction: 'send' })).outcome).toBe('not_found');

    const send = (await run({ ...base(m1, a), type: 'create-transport', direction: 'send' })).transport!;
    expect(send.iceParameters.iceLite).toBe(true);
    expect((await run({ ...base(m1, a), type: 'create-transport', direction: 'send' })).outcome).toBe('refused');
    // Another peer cannot use a's transport.
    expect((await run({ ...base(m1, b), type: 'produce', transportId: send.id, kind: 'audio', rtpParameters: audio(1111) })).outcome).toBe('not_found');
    const produced = await run({ ...base(m1, a), type: 'produce', transportId: send.id, kind: 'audio', rtpParameters: audio(1111) });
    expect(produced.outcome).toBe('done');
    expect(told).toContainEqual({ meetingId: m1, type: 'new-producer' });

    // A peer of another meeting cannot consume it; b of the same meeting can.
    expect((await join(m2, d)).outcome).toBe('done');
    const dRecv = (await run({ ...base(m2, d), type: 'create-transport', direction: 'recv' })).transport!;
    expect((await run({ ...base(m2, d), type: 'consume', transportId: dRecv.id, producerId: produced.producerId! })).outcome).toBe('not_found');
    const bRecv = (await run({ ...base(m1, b), type: 'create-transport', direction: 'recv' })).transport!;
    const consumed = await run({ ...base(m1, b), type: 'consume', transportId: bRecv.id, producerId: produced.producerId! });
    expect(consumed.consumer).toMatchObject({ producerId: produced.producerId, peerId: a, kind: 'audio' });
    // Its own producer is not offered back to a.
    const aRecv = (await run({ ...base(m1, a), type: 'create-transport', direction: 'recv' })).transport!;
    expect((await run({ ...base(m1, a), type: 'consume', transportId: aRecv.id, producerId: produced.producerId! })).outcome).toBe('not_found');

    // a leaves: b is told; a seat is free again; the meeting ends with its last peer.
    expect((await run({ ...base(m1, a), type: 'leave' })).outcome).toBe('done');
    expect(told).toContainEqual({ meetingId: m1, type: 'peer-left' });
    expect((await join(m1, c)).outcome).toBe('done');
    await run({ ...base(m1, b), type: 'leave' });
    await run({ ...base(m1, c), type: 'leave' });
    expect(ended).toEqual([m1]);
    expect(rooms.hosts(m1)).toBe(false);
    await run({ ...base(m2, d), type: 'leave' });
    expect(await sfu.liveCounts()).toMatchObject({ routers: 0, transports: 0, producers: 0, consumers: 0 });
  });
});
