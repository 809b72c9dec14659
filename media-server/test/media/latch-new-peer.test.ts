/**
 * Latching follows the dialog (issue 15, SL-01): when SDP gives a leg another peer (a phone of a shared
 * line taking a held call, a transfer target, a member retrieving a parked call), the source latched
 * until then is retired, so a previous phone that keeps sending cannot take the media back; the same
 * peer renegotiating (hold, resume) keeps its latch.
 */
import type { RemoteInfo } from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { goertzelAmplitude } from '../../src/media/audio/goertzel.ts';
import { MediaEngine } from '../../src/media/engine/media-engine.ts';
import type { BridgeHandle } from '../../src/media/bridge/bridge-handle.ts';
import { LatchedEndpoint } from '../../src/media/endpoint/latched-endpoint.ts';
import { eventually, TestPhone } from './support/test-phone.ts';

const from = (address: string, port: number): RemoteInfo => ({ address, port, family: 'IPv4', size: 172 });

/** Amplitude of `hz` in what `phone` received after `since` (performance.now()). */
const levelSince = (phone: TestPhone, since: number, hz: number) => {
  const pcm = phone.audio(since);
  return pcm.length ? goertzelAmplitude(pcm, hz, 8000, 0, pcm.length) : 0;
};

describe('LatchedEndpoint', () => {
  it('retires the latched source when SDP names another peer: it never latches again, even once the new one falls silent', () => {
    const latch = new LatchedEndpoint(2000);
    latch.expect('10.0.0.1', 4000);
    const old = from('203.0.113.7', 50_000);
    expect(latch.mayLatch(old, 0)).toBe(true);
    latch.latch(old, 0);
    // The call is given to another phone (its SDP).
    latch.expect('10.0.0.2', 6000);
    expect(latch.mayLatch(old, 10)).toBe(false);
    const next = from('203.0.113.8', 52_000);
    expect(latch.mayLatch(next, 10)).toBe(true);
    latch.latch(next, 10);
    // The new phone is silent past the relatch time: a stranger may take the latch (NAT rebinding), the old phone not.
    expect(latch.mayLatch(old, 5000)).toBe(false);
    expect(latch.mayLatch(from('203.0.113.9', 1), 5000)).toBe(true);
  });

  it('keeps the latched source eligible when the same peer renegotiates (hold, resume with the same SDP address)', () => {
    const latch = new LatchedEndpoint(2000);
    latch.expect('10.0.0.1', 4000);
    const natted = from('203.0.113.7', 50_000);
    latch.latch(natted, 0);
    latch.expect('10.0.0.1', 4000);
    expect(latch.mayLatch(natted, 10)).toBe(true);
  });

  it('does not retire a source that is the new peer itself', () => {
    const latch = new LatchedEndpoint(2000);
    latch.expect(null, 0);
    const phone = from('127.0.0.1', 40_000);
    latch.latch(phone, 0);
    latch.expect('127.0.0.1', 40_000);
    expect(latch.mayLatch(phone, 10)).toBe(true);
  });
});

describe('a leg given to another phone while the first keeps sending', () => {
  let engine: MediaEngine;
  const phones: TestPhone[] = [];
  const bridges: BridgeHandle[] = [];

  beforeAll(async () => {
    engine = await MediaEngine.start({ workers: 1, portRange: { min: 43000, max: 43199 }, bindAddress: '127.0.0.1', rtcpIntervalMs: 400 });
  });
  afterEach(async () => {
    for (const p of phones.splice(0)) p.close();
    for (const b of bridges.splice(0)) await b.close();
  });
  afterAll(() => engine.stop());

  it('the caller hears only the new phone, and the old phone is sent nothing more', async () => {
    const caller = await TestPhone.open({ codec: 'PCMU', toneHz: 900 });
    const first = await TestPhone.open({ codec: 'PCMU', toneHz: 1300 });
    const second = await TestPhone.open({ codec: 'PCMU', toneHz: 500 });
    phones.push(caller, first, second);
    const bridge = await engine.createBridge();
    bridges.push(bridge);
    const legA = await bridge.addLeg({ legId: 'a', codec: { name: 'PCMU', payloadType: 0 }, remote: caller.address });
    const legB = await bridge.addLeg({ legId: 'b', codec: { name: 'PCMU', payloadType: 0 }, remote: first.address });
    caller.start(legA);
    first.start(legB);
    const talking = performance.now();
    expect(await eventually(() => caller.audio(talking).length >= 160 * 25 && levelSince(caller, talking, 1300) > 3000)).toBe(true);

    // The second phone's dialog takes leg 'b' (as AppCall.retrieveHeld does); the first never stops sending.
    await bridge.updateLeg('b', { remote: second.address });
    const taken = performance.now();
    // The first phone sends first after the change (it would win a latch that starts over), then the second starts.
    const sentBefore = first.packetsSent;
    expect(await eventually(() => first.packetsSent >= sentBefore + 5)).toBe(true);
    expect(levelSince(caller, taken + 50, 1300), 'the first phone heard after the change').toBeLessThan(300);
    second.start(legB);
    expect(await eventually(() => levelSince(second, taken, 900) > 3000 && caller.audio(taken).length >= 160 * 50, 5000), 'the second phone hears the caller').toBe(true);
    // From the first packet of the second phone on: its tone, never the first phone's.
    const heardSecond = caller.received.find((p) => p.from >= taken && goertzelAmplitude(decode(caller, p.payload), 500, 8000, 0, 160) > 3000);
    expect(heardSecond, 'the caller hears the second phone').toBeDefined();
    const after = heardSecond!.from;
    expect(await eventually(() => caller.audio(after).length >= 160 * 40)).toBe(true);
    expect(levelSince(caller, after, 500)).toBeGreaterThan(3000);
    expect(levelSince(caller, after, 1300), 'the first phone heard again').toBeLessThan(300);
    const sentToFirst = first.received.filter((p) => p.from > after + 100).length;
    expect(sentToFirst, 'packets still sent to the first phone').toBe(0);
    const stats = (await bridge.stats()).find((s) => s.legId === 'b')!;
    expect(stats.remote).toMatchObject({ rtpPort: second.address.rtpPort });
  });
});

function decode(phone: TestPhone, payload: Buffer): Int16Array {
  const pcm = new Int16Array(160);
  phone.codec.decode(payload, 0, Math.min(160, payload.length), pcm);
  return pcm;
}
