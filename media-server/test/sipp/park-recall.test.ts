import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createParkLocation } from '@carillon/core';
import { parkSlotKey } from '@carillon/contracts/park';
import { freeMediaPort, freeSipPort, startRegisteredSipp, startSipp, type SippRun } from '../support/sipp.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { startTonePeer, type TonePeer } from '../support/tone-peer.ts';
import { liveCounts } from '../../src/health.ts';

/**
 * A parked call nobody retrieves rings back the one who parked it (issue 15,
 * PK-01), after the recall time (3 s here). The parker's SIPp phone parks the
 * call, hangs up, then gets the recall as a new INVITE from "Park 801" and
 * talks with the caller: each hears the other's tone.
 */
let h: EdgeHarness;
const phones: Record<string, TestPhone> = {};
const A_HZ = 600;
const B_HZ = 900;

beforeAll(async () => {
  h = await startEdge({ unreleased: 'park', noAnswerSeconds: 20, parkRecallSeconds: 3 });
  for (const n of ['101', '102']) phones[n] = await h.addPhone(n);
  await createParkLocation(h.db, { userId: null, ip: null }, h.accountId, { name: 'Front desk', number: '801', memberExtensionIds: [phones['102']!.extensionId] });
  h.configChanged('extensions');
}, 60_000);
afterAll(() => h?.stop());

const running: SippRun[] = [];
const peers: TonePeer[] = [];
afterEach(() => {
  for (const r of running.splice(0)) r.stop();
  for (const p of peers.splice(0)) p.close();
});

async function waitFor<T>(what: string, probe: () => T | null | undefined | false, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('park recall', () => {
  it('rings the parker back when nobody retrieves the call in time, and connects them', async () => {
    const a = await startTonePeer(A_HZ);
    const b = await startTonePeer(B_HZ);
    peers.push(a, b);
    await h.edge.bindings.removeAll(phones['102']!.extensionId);
    // Two calls for the parker's SIPp: the one it answers and parks, then the recall.
    const parker = await startRegisteredSipp({ target: h.target, credentials: phones['102']!, scenario: 'uas-park-then-recall.xml', vars: { target: '801', rtpport: String(b.port), talkms: '5000' }, calls: 2 });
    running.push(parker);
    const caller = startSipp({ scenario: 'uac-socket-until-bye.xml', target: h.target, localPort: await freeSipPort(), service: '102', auth: phones['101']!, timeoutSeconds: 60, vars: { rtpport: String(a.port) }, extra: ['-mp', String(await freeMediaPort())] });
    running.push(caller);
    const port = await waitFor('the caller answered', () => /media port (\d+)/.exec(caller.logsSoFar())?.[1], 30_000);
    a.speakTo(Number(port));
    const parked = await waitFor('the call parked on 801', () => h.edge.calls.calls().find((c) => c.parkedOn === '801'), 30_000);
    expect(await h.redis.exists(parkSlotKey(h.accountId, '801'))).toBe(1);

    // The recall: the parker's phone answers "Park 801" and hears the caller; the caller hears the parker.
    await waitFor('the recall answered', () => /recall answered: Park 801/.test(parker.logsSoFar()), 30_000);
    const recalledAt = Date.now();
    await b.until(() => b.toneFrames(A_HZ, recalledAt) > 40, 30_000, 'the parker hearing the caller');
    await a.until(() => a.toneFrames(B_HZ, recalledAt) > 40, 30_000, 'the caller hearing the parker');
    expect(parked.parkedOn).toBeNull();
    expect(await h.redis.exists(parkSlotKey(h.accountId, '801'))).toBe(0);

    const p = await parker.done;
    expect(p.code, p.errors || p.output.slice(-1500)).toBe(0);
    const c = await caller.done;
    expect(c.code, c.errors || c.output.slice(-1500)).toBe(0);
    await waitFor('calls to end', () => h.edge.calls.activeCalls === 0);
    expect(h.edge.calls.parking!.size).toBe(0);
    // The record's last write (the end) follows the call's end: wait for it before reading the call log.
    await waitFor('the call records written', () => h.edge.calls.openCallRecords === 0);
    const session = await h.db.selectFrom('calls').select(['from_number', 'to_number', 'result', 'hangup_by']).where('account_id', '=', h.accountId).orderBy('started_at').execute();
    expect(session.map((x) => [x.from_number, x.to_number, x.result])).toEqual([
      ['101', '102', 'transferred'],
      ['101', '102', 'answered'],
    ]);
  }, 120_000);

  it('ends the parked call when its parker does not take it back: the caller gets a BYE, the location is free', async () => {
    const a = await startTonePeer(A_HZ);
    const b = await startTonePeer(B_HZ);
    peers.push(a, b);
    await h.edge.bindings.removeAll(phones['102']!.extensionId);
    // One call only: the parker's phone is gone when the recall rings it (no answer within the no-answer time).
    const parker = await startRegisteredSipp({ target: h.target, credentials: phones['102']!, scenario: 'uas-refer-outcome.xml', vars: { target: '801', rtpport: String(b.port) } });
    running.push(parker);
    const caller = startSipp({ scenario: 'uac-socket-until-bye.xml', target: h.target, localPort: await freeSipPort(), service: '102', auth: phones['101']!, timeoutSeconds: 90, vars: { rtpport: String(a.port) }, extra: ['-mp', String(await freeMediaPort())] });
    running.push(caller);
    const parked = await parker.done;
    expect(parked.logs).toContain('transfer to 801: progress SIP/2.0 100 then SIP/2.0 200');
    b.close();
    const c = await caller.done;
    expect(c.code, c.errors || c.output.slice(-1500)).toBe(0);
    await waitFor('calls to end', () => h.edge.calls.activeCalls === 0);
    expect(h.edge.calls.parking!.size).toBe(0);
    expect(await h.redis.exists(parkSlotKey(h.accountId, '801'))).toBe(0);
    await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
    const last = await h.lastCall();
    expect(last).toMatchObject({ from_number: '101', to_number: '102', result: 'answered', hangup_by: 'callee' });
  }, 120_000);
});
