import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret, verifySecret } from '@carillon/core';
import { readRuleGreeting } from '@carillon/core/voicemail';
import { liveCounts } from '../../src/health.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { RtpPhone } from '../support/rtp-phone.ts';
import { freeMediaPort, freeSipPort, runSipp } from '../support/sipp.ts';
import { analyseWav, toneWav } from '../support/wav.ts';

/**
 * The caller's mailbox by phone (apps/mailbox/), end to end on the live edge with the unreleased area
 * 'voicemail' enabled for this edge only: a SIPp phone of 101 dials *86 and listens on the test's own
 * RTP phone; once the PIN prompt reaches it, the test keys the PIN, # and the menu keys as RFC 4733
 * events in that phone's stream (type-ahead: the application takes each key at its next menu, after
 * the message it is playing). What the caller hears is checked by frequency: each message is a WAV of
 * its own tone. The tests run in order over one mailbox: a new message, two saved ones, then the PIN
 * changed by phone, then a greeting recorded by phone with the new PIN, then the same mailbox reached
 * from a colleague's phone by `*` during its greeting.
 */
const DATA_DIR = '/tmp/carillon-tests';
const PIN = '4826';
/** The PIN the caller sets by phone (the shared rules: 6 to 10 digits, no run of three). */
const NEW_PIN = '739154';
/** The messages' tones: none is ring-back (440 Hz) or the beep (1 kHz), each a whole number of cycles in a 20 ms frame. */
const MESSAGE_HZ = 1400;
const OLDER_SAVED_HZ = 600;
const NEWER_SAVED_HZ = 1800;
/** What the caller says as a greeting: a tone of its own. */
const GREETING_HZ = 1200;
const BEEP_HZ = 1000;
let h: EdgeHarness;
let caller: TestPhone;
let userId: string;
let messageId: string;
let olderSavedId: string;
let newerSavedId: string;

beforeAll(async () => {
  // answering_rules: a call to 101 that nobody answers reaches its voicemail greeting (the last test).
  h = await startEdge({ unreleased: 'voicemail,answering_rules' });
  caller = await h.addPhone('101');
  const user = await h.db.selectFrom('users').select('id').where('account_id', '=', h.accountId).where('extension_id', '=', caller.extensionId).executeTakeFirstOrThrow();
  userId = user.id;
  await h.db.updateTable('user_credentials').set({ pin_hash: await hashSecret(PIN) }).where('user_id', '=', user.id).execute();
  messageId = await addMessage(MESSAGE_HZ, '+15550100', 'new', new Date());
  olderSavedId = await addMessage(OLDER_SAVED_HZ, '+15550101', 'heard', new Date(Date.now() - 120_000));
  newerSavedId = await addMessage(NEWER_SAVED_HZ, '+15550102', 'heard', new Date(Date.now() - 60_000));
}, 60_000);

/** A message of 2 s of its own tone in 101's mailbox (the checks want a second of it heard). */
async function addMessage(hz: number, from: string, status: 'new' | 'heard', createdAt: Date): Promise<string> {
  const audio = path.posix.join('voicemail', h.accountId, `${randomBytes(6).toString('hex')}.wav`);
  fs.mkdirSync(path.join(DATA_DIR, path.dirname(audio)), { recursive: true });
  fs.writeFileSync(path.join(DATA_DIR, audio), toneWav(hz, 2000));
  const row = await h.db
    .insertInto('voicemail_messages')
    .values({ account_id: h.accountId, mailbox_extension_id: caller.extensionId, from_number: from, to_number: '101', reason: 'no_answer', audio_path: audio, duration_ms: 2000, size_bytes: 32_044, status, created_at: createdAt })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * 101 dials *86 (or `dialled`) and listens on `phone` until the edge hangs up; `keys` drives the menus
 * meanwhile (resolves false when the PIN prompt never reached the phone).
 */
async function callMailbox(phone: RtpPhone, keys: (phone: RtpPhone) => Promise<boolean>, dialled = '*86', from: TestPhone = caller): Promise<void> {
  const keyed = keys(phone);
  try {
    const uac = await runSipp({
      scenario: 'uac-listen-until-bye.xml',
      target: h.target,
      localPort: await freeSipPort(),
      service: dialled,
      auth: from,
      timeoutSeconds: 120,
      vars: { rtpport: String(phone.port) },
      extra: ['-mp', String(await freeMediaPort())],
    });
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
  } finally {
    phone.close();
  }
  expect(await keyed, 'the PIN prompt reached the caller').toBe(true);
  await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
}

/** A quarter second of the PIN prompt heard: the caller keys `keys` (the PIN and what follows). */
const typeAhead = (keys: string) => async (phone: RtpPhone) => (await phone.pressOnceHeard(2000, keys)) !== null;

afterAll(async () => {
  await h?.redis.del(`carillon:mailbox-pin-failures:${caller?.extensionId}`, `carillon:mailbox-locked:${caller?.extensionId}`);
  await h?.stop();
});

describe('*86: the caller’s mailbox by phone', () => {
  it('takes the PIN and #; 1 plays the new message, and 7 moves it to the trash; # ends the call', async () => {
    const phone = await RtpPhone.open();
    await callMailbox(phone, typeAhead(`${PIN}#17#`));
    // The message's tone among the spoken prompts: at least a second of 20 ms frames that are almost all 1400 Hz.
    expect(toneFrames(Array.from(phone.heardSince(0)), MESSAGE_HZ), 'the message reached the caller').toBeGreaterThanOrEqual(50);
    const row = await h.db.selectFrom('voicemail_messages').select(['deleted_at', 'status']).where('id', '=', messageId).executeTakeFirstOrThrow();
    expect(row.deleted_at, 'the message is in the trash').not.toBeNull();
    expect(await h.redis.exists(`carillon:mailbox-pin-failures:${caller.extensionId}`), 'the right PIN counts no failure').toBe(0);
  }, 150_000);

  it('2 plays the saved messages newest first: 7 deletes the first (to the trash), the second plays, * and # end', async () => {
    const phone = await RtpPhone.open();
    await callMailbox(phone, typeAhead(`${PIN}#27*#`));
    const heard = Array.from(phone.heardSince(0));
    expect(toneFrames(heard, NEWER_SAVED_HZ), 'the newer saved message reached the caller').toBeGreaterThanOrEqual(50);
    expect(toneFrames(heard, OLDER_SAVED_HZ), 'then the older one').toBeGreaterThanOrEqual(50);
    // 7 was the first key after the first message: the newer one is the one deleted.
    const rows = await h.db.selectFrom('voicemail_messages').select(['id', 'deleted_at', 'status']).where('id', 'in', [newerSavedId, olderSavedId]).execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(newerSavedId)!.deleted_at, 'the newer saved message is in the trash').not.toBeNull();
    expect(byId.get(olderSavedId)).toMatchObject({ deleted_at: null, status: 'heard' });
  }, 150_000);

  it('4 changes the PIN (entered twice); the next call signs in with the new PIN and hears the saved message', async () => {
    await callMailbox(await RtpPhone.open(), typeAhead(`${PIN}#4${NEW_PIN}#${NEW_PIN}##`));
    const credentials = await h.db.selectFrom('user_credentials').select('pin_hash').where('user_id', '=', userId).executeTakeFirstOrThrow();
    expect(credentials.pin_hash).toMatch(/^\$argon2id\$/);
    expect(await verifySecret(credentials.pin_hash, NEW_PIN), 'the new PIN is stored').toBe(true);
    const audit = await h.db.selectFrom('audit_events').select(['actor_user_id', 'after']).where('account_id', '=', h.accountId).where('action', '=', 'user.voicemail_pin_changed').execute();
    expect(audit).toEqual([{ actor_user_id: userId, after: { via: 'phone' } }]);

    const phone = await RtpPhone.open();
    await callMailbox(phone, typeAhead(`${NEW_PIN}#2*#`));
    expect(toneFrames(Array.from(phone.heardSince(0)), OLDER_SAVED_HZ), 'signed in: the saved message reached the caller').toBeGreaterThanOrEqual(50);
    expect(await h.redis.exists(`carillon:mailbox-pin-failures:${caller.extensionId}`), 'the new PIN counts no failure').toBe(0);
  }, 240_000);

  it('3 then 1 records a greeting after the beep until #; 1 keeps it: stored as an upload is, the active user-hours greeting', async () => {
    const SPOKEN_MS = 3000;
    const phone = await RtpPhone.open(GREETING_HZ);
    let beepHeardAt = 0;
    await callMailbox(phone, async (p) => {
      const keyedAt = await p.pressOnceHeard(2000, `${NEW_PIN}#31`);
      if (keyedAt === null) return false;
      // The beep: the recording starts as it ends (it lasts 250 ms).
      const deadline = Date.now() + 60_000;
      while (p.pureToneFramesSince(keyedAt, BEEP_HZ) < 5) {
        if (Date.now() > deadline) return false;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      beepHeardAt = Date.now();
      // What the caller says lasts SPOKEN_MS (its tone is sent all along); then # ends it, 1 keeps it, * and # leave.
      await new Promise((resolve) => setTimeout(resolve, SPOKEN_MS));
      p.press('#1*#');
      return true;
    });
    expect(beepHeardAt, 'the beep reached the caller').toBeGreaterThan(0);

    const greeting = await readRuleGreeting(h.db, h.accountId, userId, 'in_hours');
    expect(greeting?.greeting.source, 'the user-hours greeting is the recorded one').toBe('custom');
    const row = await h.db.selectFrom('voicemail_greetings').select(['id', 'file', 'duration_ms', 'source']).where('account_id', '=', h.accountId).where('user_id', '=', userId).executeTakeFirstOrThrow();
    expect(greeting?.greeting).toEqual({ source: 'custom', audioId: row.id });
    expect(row.source).toBe('phone');
    const file = path.join(DATA_DIR, row.file);
    expect(fs.existsSync(file), 'the greeting file exists').toBe(true);
    // About what was said: the beep's end and the # are each known within a few packets.
    expect(row.duration_ms).toBeGreaterThan(SPOKEN_MS - 700);
    expect(row.duration_ms).toBeLessThan(SPOKEN_MS + 1500);
    const wav = analyseWav(file, GREETING_HZ);
    expect(Math.abs(wav.seconds * 1000 - row.duration_ms)).toBeLessThan(50);
    expect(wav.toneShare, 'the greeting is what the caller said').toBeGreaterThan(0.8);
  }, 150_000);

  it('101 dialling its own extension from its own phone reaches its mailbox as *86 does', async () => {
    const phone = await RtpPhone.open();
    await callMailbox(phone, typeAhead(`${NEW_PIN}#2*#`), '101');
    expect(toneFrames(Array.from(phone.heardSince(0)), OLDER_SAVED_HZ), 'signed in: the saved message reached the caller').toBeGreaterThanOrEqual(50);
  }, 150_000);

  it("from another phone: 102 calls 101, nobody answers, * during 101's greeting, 101's PIN: 101's mailbox, and no message is left", async () => {
    const colleague = await h.addPhone('102');
    const before = await h.db.selectFrom('voicemail_messages').select('id').where('mailbox_extension_id', '=', caller.extensionId).execute();
    const phone = await RtpPhone.open();
    await callMailbox(phone, typeAhead(`*${NEW_PIN}#2*#`), '101', colleague);
    expect(toneFrames(Array.from(phone.heardSince(0)), OLDER_SAVED_HZ), "signed in: 101's saved message reached the caller").toBeGreaterThanOrEqual(50);
    const after = await h.db.selectFrom('voicemail_messages').select('id').where('mailbox_extension_id', '=', caller.extensionId).execute();
    expect(after.length, 'the keys were not taken as a message').toBe(before.length);
  }, 150_000);
});

/** 20 ms frames whose energy is at least 80 % at `hz` (Goertzel), so a tone and not speech. */
function toneFrames(samples: number[], hz: number): number {
  const n = 160;
  const coeff = 2 * Math.cos((2 * Math.PI * hz) / 8000);
  let frames = 0;
  for (let start = 0; start + n <= samples.length; start += n) {
    let s1 = 0;
    let s2 = 0;
    let energy = 0;
    for (let i = start; i < start + n; i++) {
      const s0 = samples[i]! + coeff * s1 - s2;
      s2 = s1;
      s1 = s0;
      energy += samples[i]! * samples[i]!;
    }
    const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    // A pure tone of amplitude A over n samples: Goertzel power (n A / 2)^2, energy n A^2 / 2, so power = energy * n / 2.
    if (energy > 0 && power / ((energy * n) / 2) > 0.8) frames++;
  }
  return frames;
}
