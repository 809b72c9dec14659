import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { saveUserAnswering } from '@carillon/core';
import { DEFAULT_CALL_SETTINGS, userAnsweringSchema, type UserCallSettings } from '@carillon/domain';
import { liveCounts } from '../../src/health.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp, startSipp, type SippRun } from '../support/sipp.ts';
import { startTonePeer, type TonePeer } from '../support/tone-peer.ts';

/**
 * A user's own hold music (inventory 1 §7.6 "Hold Music", issue 13), end to end on the live edge with the
 * unreleased area 'answering_rules': the user's desk phone (SIPp, silent) calls an outside number, whose
 * carrier (SIPp, its media the test's RTP socket) answers; the phone holds for 6 s. The carrier hears the
 * track the user chose — "holiday" opens on E5 (659 Hz) sleigh bells, which the shipped hold music never
 * plays — or nothing at all when the user turned hold music off. The same when the user's phone answered a
 * call their answering rules rang (an application's call, not a two-party one) and holds it. (The carrier's SDP names the test's socket on 127.0.0.1: `-mi`.)
 */
const CARRIER_IP = '127.0.0.2';
const OUTSIDE = '+12125550142';
const E5_HZ = 659;
let h: EdgeHarness;
let desk: TestPhone;
let colleague: TestPhone;
let userId = '';
let carrierPort = 0;
const running: SippRun[] = [];
const peers: TonePeer[] = [];

beforeAll(async () => {
  h = await startEdge({ unreleased: 'answering_rules' });
  desk = await h.addPhone('101');
  colleague = await h.addPhone('102');
  userId = (await h.db.selectFrom('users').select('id').where('account_id', '=', h.accountId).where('extension_id', '=', desk.extensionId).executeTakeFirstOrThrow()).id;
  carrierPort = await h.addCarrierTrunk(CARRIER_IP);
}, 60_000);

afterAll(() => h?.stop());

afterEach(() => {
  for (const r of running.splice(0)) r.stop();
  for (const p of peers.splice(0)) p.close();
});

/** Saves the user's call settings through core (as PUT /api/me/answering-rules does) and drops the edge's cached copy, as the app's announcement would. */
async function saveHoldMusic(holdMusic: UserCallSettings['holdMusic']): Promise<void> {
  const handling = { ringPlan: { mode: 'in_order', rows: [{ target: { kind: 'device', deviceId: desk.deviceId }, order: 1, active: true, ringForSeconds: 20 }] }, afterRinging: { type: 'voicemail' }, greeting: { source: 'default' }, audioWhileConnecting: { kind: 'ring_tone' } };
  const doc = userAnsweringSchema.parse({ hours: { mode: '24h' }, inHours: handling, afterHours: handling, custom: [], settings: { ...DEFAULT_CALL_SETTINGS, holdMusic } });
  const saved = await saveUserAnswering(h.db, { userId, ip: null }, h.accountId, userId, doc);
  expect(saved.ok, JSON.stringify(saved)).toBe(true);
  h.configChanged('answering_rules');
}

/** The desk phone calls out and holds at once for 6 s; what the carrier heard from the moment it answered. */
async function holdAnOutsideCall(): Promise<TonePeer> {
  const carrierMedia = await startTonePeer(1100);
  peers.push(carrierMedia);
  const carrier = startSipp({ scenario: 'uas-socket-until-bye.xml', target: h.target, localIp: CARRIER_IP, localPort: carrierPort, timeoutSeconds: 60, vars: { rtpport: String(carrierMedia.port) }, extra: ['-mi', '127.0.0.1'] });
  running.push(carrier);
  await carrier.ready;
  const uac = await runSipp({ scenario: 'uac-hold-silent.xml', target: h.target, localPort: await freeSipPort(), service: OUTSIDE, auth: desk, timeoutSeconds: 60, extra: ['-mp', String(await freeMediaPort())] });
  expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
  expect((await carrier.done).code).toBe(0);
  await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
  return carrierMedia;
}

describe("a user's hold music", () => {
  it('plays the track the user chose to the party they hold', { timeout: 60_000 }, async () => {
    await saveHoldMusic({ enabled: true, audio: { kind: 'music', track: 'holiday' } });
    const heard = await holdAnOutsideCall();
    // "Jingle bells, jingle bells": two bars of E5, about 2 s of frames in the 6 s hold.
    expect(heard.toneFrames(E5_HZ)).toBeGreaterThan(40);
  });

  it('plays nothing when the user turned hold music off', { timeout: 60_000 }, async () => {
    await saveHoldMusic({ enabled: false, audio: { kind: 'music', track: 'holiday' } });
    const heard = await holdAnOutsideCall();
    // The phone is silent and nothing is played: the carrier hears silence (or no packets at all).
    expect(heard.toneFrames(E5_HZ)).toBe(0);
    expect(heard.rms()).toBeLessThan(50);
  });

  it('plays the default track (acoustic) when the user changed nothing', { timeout: 60_000 }, async () => {
    await saveHoldMusic(DEFAULT_CALL_SETTINGS.holdMusic);
    const heard = await holdAnOutsideCall();
    expect(heard.rms()).toBeGreaterThan(300);
    expect(heard.toneFrames(E5_HZ)).toBe(0);
  });
  it("plays the user's track to the caller when the user's phone answered a call their rules rang, and holds it", { timeout: 60_000 }, async () => {
    await saveHoldMusic({ enabled: true, audio: { kind: 'music', track: 'holiday' } });
    const deskMedia = await startTonePeer(1100);
    const callerMedia = await startTonePeer(500);
    peers.push(deskMedia, callerMedia);
    await h.edge.bindings.removeAll(desk.extensionId);
    const holding = await startRegisteredSipp({ target: h.target, credentials: desk, scenario: 'uas-hold-until-bye.xml', vars: { rtpport: String(deskMedia.port) }, timeoutSeconds: 60 });
    running.push(holding);
    const uac = await runSipp({ scenario: 'uac-listen-then-bye.xml', target: h.target, localPort: await freeSipPort(), service: '101', auth: colleague, timeoutSeconds: 60, vars: { rtpport: String(callerMedia.port) }, extra: ['-d', '7000'] });
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    expect((await holding.done).code).toBe(0);
    expect(callerMedia.toneFrames(E5_HZ)).toBeGreaterThan(40);
    await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
  });
});
