/**
 * The RTP inactivity timeout in the media engine (engine/media-timeout.ts),
 * with real UDP phones: a bridge is reported once every peer has been silent
 * past the timeout, not while one of them sends, not while a silent peer is
 * on hold, and a bridge whose only other endpoint is a pipe end counts its
 * one peer.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MediaEvent } from '../../src/media/engine/control-messages.ts';
import { MediaEngine } from '../../src/media/engine/media-engine.ts';
import type { ContainerHandle } from '../../src/media/engine/container-handle.ts';
import { eventually, sleep, TestPhone } from './support/test-phone.ts';

const TIMEOUT_MS = 1500;
let engine: MediaEngine;
const phones: TestPhone[] = [];
const containers: ContainerHandle[] = [];
const timeouts: Extract<MediaEvent, { type: 'media-timeout' }>[] = [];

beforeAll(async () => {
  engine = await MediaEngine.start({ workers: 1, portRange: { min: 44000, max: 44099 }, bindAddress: '127.0.0.1', mediaTimeoutMs: TIMEOUT_MS });
  engine.on('media-timeout', (e) => timeouts.push(e));
});
afterEach(async () => {
  for (const p of phones.splice(0)) p.close();
  for (const c of containers.splice(0)) await c.close();
  timeouts.length = 0;
});
afterAll(() => engine.stop());

async function phoneIn(bridge: Awaited<ReturnType<MediaEngine['createBridge']>>, legId: string, toneHz: number) {
  const phone = await TestPhone.open({ codec: 'PCMU', toneHz });
  phones.push(phone);
  const local = await bridge.addLeg({ legId, codec: { name: 'PCMU', payloadType: phone.payloadType }, remote: phone.address });
  return { phone, local };
}

const reportsOf = (bridgeId: string) => timeouts.filter((t) => t.bridgeId === bridgeId);

describe('RTP inactivity timeout', () => {
  it('reports a bridge only once both peers are silent past the timeout', async () => {
    const bridge = await engine.createBridge();
    containers.push(bridge);
    const a = await phoneIn(bridge, 'a', 1000);
    await phoneIn(bridge, 'b', 1500);
    // Only a sends: b is silent far past the timeout, and the bridge is alive.
    a.phone.start(a.local);
    await sleep(TIMEOUT_MS * 3);
    expect(reportsOf(bridge.id)).toEqual([]);
    a.phone.pause();
    expect(await eventually(() => reportsOf(bridge.id).length > 0, 15_000)).toBe(true);
    const [report] = reportsOf(bridge.id);
    expect(report!.legIds.sort()).toEqual(['a', 'b']);
    expect(report!.silentMs).toBeGreaterThanOrEqual(TIMEOUT_MS);
    // The handle of the bridge hears it too (where call control listens).
    const heard: unknown[] = [];
    bridge.on('media-timeout', (e) => heard.push(e));
    // Media again: the silence is over; its next silence is reported anew.
    a.phone.resume();
    await sleep(TIMEOUT_MS);
    a.phone.pause();
    expect(await eventually(() => heard.length > 0, 15_000)).toBe(true);
  }, 60_000);

  it('gives a peer on hold the held timeout', async () => {
    const bridge = await engine.createBridge();
    containers.push(bridge);
    await phoneIn(bridge, 'a', 1000);
    await phoneIn(bridge, 'b', 1500);
    // a holds (we answered recvonly): silence from both is expected and lasts.
    await bridge.setDirection('a', 'recvonly');
    await sleep(TIMEOUT_MS * 3);
    expect(reportsOf(bridge.id)).toEqual([]);
    await bridge.setDirection('a', 'sendrecv');
    expect(await eventually(() => reportsOf(bridge.id).length > 0, 15_000)).toBe(true);
  }, 60_000);

  it('does not count a pipe end as a peer', async () => {
    const bridge = await engine.createBridge();
    const room = await engine.createRoom({ near: bridge });
    containers.push(bridge, room);
    const a = await phoneIn(bridge, 'a', 1000);
    await bridge.pipeTo('b', room, 'x');
    a.phone.start(a.local);
    await sleep(TIMEOUT_MS * 2);
    expect(reportsOf(bridge.id)).toEqual([]);
    a.phone.pause();
    expect(await eventually(() => reportsOf(bridge.id).length > 0, 15_000)).toBe(true);
    expect(reportsOf(bridge.id)[0]!.legIds).toEqual(['a']);
    // The room holds only the pipe's other end: nothing to time out there.
    expect(reportsOf(room.id)).toEqual([]);
  }, 60_000);
});
