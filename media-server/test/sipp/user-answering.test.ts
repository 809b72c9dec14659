import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultRuleHandling } from '@carillon/domain';
import { liveCounts } from '../../src/health.ts';
import { wavHeader } from '../../src/media/media-player/wav-file.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { RtpPhone } from '../support/rtp-phone.ts';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp, startSipp, tellToHangUp, type SippRun } from '../support/sipp.ts';
import { presenceField, presenceKey } from '@carillon/contracts/presence';
import { analyseWav } from '../support/wav.ts';

/**
 * Calls to a user's extension through the user-answering application
 * (apps/user-answering/, AppCall.bridgeTo), end to end from a SIPp caller to
 * a SIPp callee on the live edge, with the unreleased area 'answering_rules'
 * enabled for this edge only: the callee's answer bridges both with audio
 * both ways; no answer within the rule's ring time (5 s here) CANCELs the
 * callee and takes a message with reason no_answer, a busy phone one with
 * reason busy; DND goes to voicemail
 * without ringing; a caller who hangs up while it rings CANCELs the callee.
 */
const DATA_DIR = '/tmp/carillon-tests';
/** What a caller who leaves a message says: a tone of its own (not the greeting's 440 Hz nor the beep's 1 kHz). */
const MESSAGE_HZ = 1300;
const BEEP_HZ = 1000;
let h: EdgeHarness;
let caller: TestPhone;
let callee: TestPhone;
const callees: SippRun[] = [];

beforeAll(async () => {
  h = await startEdge({ unreleased: 'answering_rules' });
  caller = await h.addPhone('101');
  callee = await h.addPhone('102');
  const user = await h.db.selectFrom('users').select('id').where('account_id', '=', h.accountId).where('extension_id', '=', callee.extensionId).executeTakeFirstOrThrow();
  // The user's rule, in and after hours: ring the phone 5 s, then voicemail.
  const handling = defaultRuleHandling([callee.deviceId], 'simultaneous');
  handling.ringPlan.rows[0]!.ringForSeconds = 5;
  await h.db
    .insertInto('answering_rules')
    .values((['in_hours', 'after_hours'] as const).map((kind) => ({ account_id: h.accountId, user_id: user.id, kind, handling: JSON.stringify(handling) })))
    .execute();
  // The mailbox's greeting: one second of tone, so that the message starts soon after the ringing.
  const greeting = path.posix.join('greetings', h.accountId, 'user-102.wav');
  fs.mkdirSync(path.join(DATA_DIR, path.dirname(greeting)), { recursive: true });
  fs.writeFileSync(path.join(DATA_DIR, greeting), toneWav(440, 1000));
  await h.db.insertInto('voicemail_settings').values({ extension_id: callee.extensionId, account_id: h.accountId, greeting_path: greeting, language: 'en', transcribe: false }).execute();
  h.configChanged('answering_rules', 'extensions');
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

afterEach(async () => {
  for (const c of callees.splice(0)) c.stop();
  await h.db.updateTable('extensions').set({ dnd_status: 'take_all_calls' }).where('id', '=', callee.extensionId).execute();
  h.configChanged('extensions');
});

/** Registers the SIPp callee of 102 and starts its scenario. */
async function ringing(scenario: string): Promise<SippRun> {
  await h.edge.bindings.removeAll(callee.extensionId);
  const run = await startRegisteredSipp({ target: h.target, credentials: callee, scenario });
  callees.push(run);
  return run;
}

const dial = async (scenario: string) =>
  runSipp({ scenario, target: h.target, localPort: await freeSipPort(), service: '102', auth: caller, timeoutSeconds: 60, extra: ['-mp', String(await freeMediaPort())] });

/**
 * 101 calls 102 and leaves a message: its media is the test's RTP phone, saying its tone all along; once the
 * beep after the greeting reached it, it talks `talkMs` more and hangs up (on the test's word), so the
 * message lasts about `talkMs` whatever the ringing and the greeting took.
 */
async function leaveMessage(talkMs: number): Promise<void> {
  const media = await RtpPhone.open(MESSAGE_HZ);
  try {
    const run = startSipp({ scenario: 'uac-talk-until-told.xml', target: h.target, localPort: await freeSipPort(), service: '102', auth: caller, timeoutSeconds: 60, vars: { rtpport: String(media.port) }, extra: ['-mp', String(await freeMediaPort())] });
    const deadline = Date.now() + 30_000;
    while (media.pureToneFramesSince(0, BEEP_HZ) < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const beeped = media.pureToneFramesSince(0, BEEP_HZ) >= 5;
    if (beeped) {
      await new Promise((r) => setTimeout(r, talkMs));
      await tellToHangUp(run);
    } else run.stop();
    const uac = await run.done;
    expect(beeped, 'the beep after the greeting reached the caller').toBe(true);
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
  } finally {
    media.close();
  }
}

async function expectNothingLive(): Promise<void> {
  await expect.poll(() => liveCounts(h.edge.calls, h.media), { timeout: 20_000, interval: 50 }).toEqual({ calls: 0, legs: 0, endpoints: 0, bridges: 0, rooms: 0, pipes: 0 });
}

const legsOf = (callId: string) => h.db.selectFrom('call_legs').selectAll().where('call_id', '=', callId).orderBy('started_at').execute();
const messages = () => h.db.selectFrom('voicemail_messages').selectAll().where('account_id', '=', h.accountId).where('mailbox_extension_id', '=', callee.extensionId).orderBy('created_at').execute();

interface RtpStats {
  received: { packets: number };
  sent: { packets: number };
}

describe('a call to a user whose answering rules apply', () => {
  it('bridges the caller to the callee who answers: RTP both ways, the BYE of the caller ends both', async () => {
    const uas = await ringing('uas-answer.xml');
    const uac = await dial('uac-call.xml');
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    const answered = await uas.done;
    expect(answered.code, 'the callee got the BYE').toBe(0);
    const record = await h.lastCall();
    expect(record).toMatchObject({ to_number: '102', result: 'answered', hangup_by: 'caller', callee_extension_id: callee.extensionId });
    const legs = await legsOf(record.id);
    expect(legs.map((l) => [l.role, l.result, l.codec])).toEqual([
      ['caller', 'answered', 'PCMA'],
      ['callee', 'answered', 'PCMA'],
    ]);
    // The callee's audio reached the caller, and the caller's the callee (SIPp plays a PCMA recording of speech each side).
    const [a, b] = legs.map((l) => l.rtp_stats as unknown as RtpStats);
    expect(a!.received.packets).toBeGreaterThan(50);
    expect(b!.received.packets).toBeGreaterThan(50);
    expect(a!.sent.packets).toBeGreaterThan(50);
    expect(b!.sent.packets).toBeGreaterThan(50);
    await expectNothingLive();
  }, 90_000);

  it('ends both when the callee hangs up', async () => {
    const uas = await ringing('uas-bye.xml');
    const uac = await dial('uac-wait-bye.xml');
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    expect((await uas.done).code, 'the callee sent BYE and had its 200').toBe(0);
    const record = await h.lastCall();
    expect(record).toMatchObject({ to_number: '102', result: 'answered', hangup_by: 'callee' });
    await expectNothingLive();
  }, 90_000);

  it('CANCELs the callee after the rule ring time and takes a message with reason no_answer', async () => {
    const before = (await messages()).length;
    const uas = await ringing('uas-ring-cancelled.xml');
    await leaveMessage(6000);
    expect((await uas.done).code, 'the callee got the CANCEL').toBe(0);
    await expect.poll(async () => (await messages()).length, { timeout: 20_000, interval: 100 }).toBe(before + 1);
    const message = (await messages()).at(-1)!;
    const record = await h.lastCall();
    expect(message).toMatchObject({ reason: 'no_answer', from_number: '101', to_number: '102', call_id: record.id });
    const legs = await legsOf(record.id);
    expect(legs.map((l) => [l.role, l.result])).toEqual([
      ['caller', 'answered'],
      ['callee', 'cancelled'],
    ]);
    // The caller's message: its 6 s after the beep; the ringing (5 s), the greeting (1 s) and the beep came first.
    const wav = analyseWav(path.join(DATA_DIR, message.audio_path), 1000);
    expect(wav.seconds).toBeGreaterThan(5);
    expect(wav.seconds).toBeLessThan(10);
    expect(wav.rms).toBeGreaterThan(100);
    await expectNothingLive();
  }, 90_000);

  it('takes a message with reason busy when the phone answers 486', async () => {
    const before = (await messages()).length;
    const uas = await ringing('uas-busy.xml');
    await leaveMessage(2000);
    expect((await uas.done).code).toBe(0);
    await expect.poll(async () => (await messages()).length, { timeout: 20_000, interval: 100 }).toBe(before + 1);
    expect((await messages()).at(-1)).toMatchObject({ reason: 'busy', to_number: '102' });
    const record = await h.lastCall();
    expect((await legsOf(record.id)).map((l) => [l.role, l.result])).toEqual([
      ['caller', 'answered'],
      ['callee', '486'],
    ]);
    await expectNothingLive();
  }, 90_000);

  it('goes straight to voicemail under Do Not Disturb: the phone never rings', async () => {
    await h.db.updateTable('extensions').set({ dnd_status: 'no_calls' }).where('id', '=', callee.extensionId).execute();
    h.configChanged('extensions');
    const before = (await messages()).length;
    await ringing('uas-answer.xml');
    await leaveMessage(2000);
    await expect.poll(async () => (await messages()).length, { timeout: 20_000, interval: 100 }).toBe(before + 1);
    expect((await messages()).at(-1)).toMatchObject({ reason: 'dnd', to_number: '102' });
    const record = await h.lastCall();
    // No INVITE went to the registered phone: the call has no callee leg.
    expect((await legsOf(record.id)).map((l) => l.role)).toEqual(['caller']);
    await expectNothingLive();
  }, 90_000);

  it('CANCELs the callee when the caller hangs up while it rings: nothing live, the call cancelled', async () => {
    const uas = await ringing('uas-ring-cancelled.xml');
    const run = startSipp({ scenario: 'uac-bye-after-2s.xml', target: h.target, localPort: await freeSipPort(), service: '102', auth: caller, timeoutSeconds: 60, extra: ['-mp', String(await freeMediaPort())] });
    // The extension shows ringing while bridgeTo rings it, as for a B2BUA call, and nothing once it is over.
    const calleeActivity = async () => {
      await h.edge.presence.flush();
      const raw = await h.redis.hget(presenceKey('test'), presenceField(h.accountId, callee.extensionId));
      return raw ? (JSON.parse(raw) as { ringing: number; onCall: number }) : { ringing: 0, onCall: 0 };
    };
    await expect.poll(calleeActivity, { timeout: 20_000, interval: 50 }).toEqual({ ringing: 1, onCall: 0 });
    const uac = await run.done;
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    await expect.poll(calleeActivity, { timeout: 20_000, interval: 50 }).toEqual({ ringing: 0, onCall: 0 });
    expect((await uas.done).code, 'the callee got the CANCEL').toBe(0);
    const record = await h.lastCall();
    expect(record).toMatchObject({ to_number: '102', result: 'cancelled', hangup_by: 'caller' });
    expect((await legsOf(record.id)).map((l) => [l.role, l.result])).toEqual([
      ['caller', 'cancelled'],
      ['callee', 'cancelled'],
    ]);
    await expectNothingLive();
  }, 90_000);

  describe('after ringing (the rule’s action when nobody answers)', () => {
    /** 102's rules for this test: ring 5 s, then `afterRinging`; back to voicemail afterwards. */
    async function withAfterRinging(afterRinging: ReturnType<typeof defaultRuleHandling>['afterRinging'], run: () => Promise<void>): Promise<void> {
      const user = await h.db.selectFrom('users').select('id').where('account_id', '=', h.accountId).where('extension_id', '=', callee.extensionId).executeTakeFirstOrThrow();
      const set = async (after: typeof afterRinging) => {
        const handling = defaultRuleHandling([callee.deviceId], 'simultaneous');
        handling.ringPlan.rows[0]!.ringForSeconds = 5;
        handling.afterRinging = after;
        await h.db.updateTable('answering_rules').set({ handling: JSON.stringify(handling) }).where('account_id', '=', h.accountId).where('user_id', '=', user.id).execute();
        h.configChanged('answering_rules');
      };
      await set(afterRinging);
      try {
        await run();
      } finally {
        await set({ type: 'voicemail' });
      }
    }

    it('hands the call to another extension: a message-only extension takes the message, 102’s mailbox none', async () => {
      const site = await h.db.selectFrom('sites').select('id').where('account_id', '=', h.accountId).where('is_main', '=', true).executeTakeFirstOrThrow();
      const desk = await h.db.insertInto('extensions').values({ account_id: h.accountId, site_id: site.id, number: '303', name: 'Front desk', type: 'message_only', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
      // Its greeting: a second of tone, as 102's, so the message starts soon after the hand-off.
      const greeting = path.posix.join('greetings', h.accountId, 'desk-303.wav');
      fs.writeFileSync(path.join(DATA_DIR, greeting), toneWav(440, 1000));
      await h.db.insertInto('voicemail_settings').values({ extension_id: desk.id, account_id: h.accountId, greeting_path: greeting, language: 'en', transcribe: false }).execute();
      h.configChanged('extensions');
      const before = (await messages()).length;
      await withAfterRinging({ type: 'extension', extensionId: desk.id }, async () => {
        const uas = await ringing('uas-ring-cancelled.xml');
        await leaveMessage(4000);
        expect((await uas.done).code, '102’s phone got the CANCEL').toBe(0);
        const deskMessages = () => h.db.selectFrom('voicemail_messages').selectAll().where('account_id', '=', h.accountId).where('mailbox_extension_id', '=', desk.id).execute();
        await expect.poll(async () => (await deskMessages()).length, { timeout: 20_000, interval: 100 }).toBe(1);
        const record = await h.lastCall();
        expect((await deskMessages())[0]).toMatchObject({ from_number: '101', call_id: record.id });
        expect((await deskMessages())[0]!.duration_ms).toBeGreaterThan(3000);
        expect((await messages()).length, 'nothing in 102’s mailbox').toBe(before);
      });
      await expectNothingLive();
    }, 90_000);

    it('plays the not-available message and hangs up: the caller gets a BYE, no message is taken', async () => {
      const before = (await messages()).length;
      await withAfterRinging({ type: 'message_hang_up', message: { source: 'default' } }, async () => {
        const uas = await ringing('uas-ring-cancelled.xml');
        const uac = await dial('uac-wait-bye.xml');
        expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
        expect((await uas.done).code, '102’s phone got the CANCEL').toBe(0);
        const record = await h.lastCall();
        expect(record).toMatchObject({ to_number: '102', hangup_by: 'callee' });
        const legs = await legsOf(record.id);
        // The message reached the caller: well over the 5 s of ring-back in packets (the message is ~5 s of speech).
        expect((legs[0]!.rtp_stats as unknown as RtpStats).sent.packets).toBeGreaterThan(400);
      });
      expect((await messages()).length, 'no message taken').toBe(before);
      await expectNothingLive();
    }, 90_000);
  });
});

/** A WAV in the media format (8 kHz mono 16-bit) of a tone. */
function toneWav(hz: number, ms: number): Buffer {
  const n = Math.round((ms * 8000) / 1000);
  const out = Buffer.alloc(44 + n * 2);
  wavHeader(8000, 1, n * 2, out);
  for (let i = 0; i < n; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000)), 44 + i * 2);
  return out;
}
