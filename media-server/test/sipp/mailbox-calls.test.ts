import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '@carillon/core';
import { liveCounts } from '../../src/health.ts';
import { wavHeader } from '../../src/media/media-player/wav-file.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { RtpPhone } from '../support/rtp-phone.ts';
import { freeMediaPort, freeSipPort, runSipp } from '../support/sipp.ts';

/**
 * The caller's mailbox by phone (apps/mailbox/), end to end on the live edge with the unreleased area
 * 'voicemail' enabled for this edge only: a SIPp phone of 101 dials *86 and listens on the test's own
 * RTP phone; once the PIN prompt reaches it, the test keys the PIN, # and 7 as RFC 4733 events in
 * that phone's stream (7 is type-ahead: the application takes it after the message). The caller hears the
 * message (a WAV of 1400 Hz), the application moves it to the trash and hangs up.
 */
const DATA_DIR = '/tmp/carillon-tests';
const PIN = '4826';
const MESSAGE_HZ = 1400;
let h: EdgeHarness;
let caller: TestPhone;
let messageId: string;

beforeAll(async () => {
  h = await startEdge({ unreleased: 'voicemail' });
  caller = await h.addPhone('101');
  const user = await h.db.selectFrom('users').select('id').where('account_id', '=', h.accountId).where('extension_id', '=', caller.extensionId).executeTakeFirstOrThrow();
  await h.db.updateTable('user_credentials').set({ pin_hash: await hashSecret(PIN) }).where('user_id', '=', user.id).execute();
  const audio = path.posix.join('voicemail', h.accountId, `${randomBytes(6).toString('hex')}.wav`);
  fs.mkdirSync(path.join(DATA_DIR, path.dirname(audio)), { recursive: true });
  fs.writeFileSync(path.join(DATA_DIR, audio), toneWav(MESSAGE_HZ, 3000));
  const row = await h.db
    .insertInto('voicemail_messages')
    .values({ account_id: h.accountId, mailbox_extension_id: caller.extensionId, from_number: '+15550100', to_number: '101', reason: 'no_answer', audio_path: audio, duration_ms: 3000, size_bytes: 48_044 })
    .returning('id')
    .executeTakeFirstOrThrow();
  messageId = row.id;
}, 60_000);

afterAll(async () => {
  await h?.redis.del(`carillon:mailbox-pin-failures:${caller?.extensionId}`, `carillon:mailbox-locked:${caller?.extensionId}`);
  await h?.stop();
});

describe('*86: the caller’s mailbox by phone', () => {
  it('takes the PIN and #, plays the new message, and 7 moves it to the trash', async () => {
    const phone = await RtpPhone.open();
    // A quarter second of the PIN prompt heard: the caller keys the PIN, # and 7 (type-ahead) from its RTP stream.
    const keying = phone.pressOnceHeard(2000, `${PIN}#7`);
    try {
      const uac = await runSipp({
        scenario: 'uac-listen-until-bye.xml',
        target: h.target,
        localPort: await freeSipPort(),
        service: '*86',
        auth: caller,
        timeoutSeconds: 90,
        vars: { rtpport: String(phone.port) },
        extra: ['-mp', String(await freeMediaPort())],
      });
      expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    } finally {
      phone.close();
    }
    const keyed = (await keying) !== null;
    const heard = Array.from(phone.heardSince(0));
    expect(keyed, 'the PIN prompt reached the caller').toBe(true);
    // The message's tone among the spoken prompts: at least a second of 20 ms frames that are almost all 1400 Hz.
    expect(toneFrames(heard, MESSAGE_HZ), 'the message reached the caller').toBeGreaterThanOrEqual(50);
    const row = await h.db.selectFrom('voicemail_messages').select(['deleted_at', 'status']).where('id', '=', messageId).executeTakeFirstOrThrow();
    expect(row.deleted_at, 'the message is in the trash').not.toBeNull();
    expect(await h.redis.exists(`carillon:mailbox-pin-failures:${caller.extensionId}`), 'the right PIN counts no failure').toBe(0);
    await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
  }, 120_000);
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

function toneWav(hz: number, ms: number): Buffer {
  const n = Math.round((ms * 8000) / 1000);
  const out = Buffer.alloc(44 + n * 2);
  wavHeader(8000, 1, n * 2, out);
  for (let i = 0; i < n; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000)), 44 + i * 2);
  return out;
}
