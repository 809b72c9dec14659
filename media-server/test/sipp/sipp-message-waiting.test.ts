import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VOICEMAIL_EVENTS_CHANNEL, type VoicemailEvent } from '@carillon/contracts/voicemail-events';
import { freeSipPort, runSipp, startSipp } from '../support/sipp.ts';
import { startEdge, type EdgeHarness } from '../support/edge-harness.ts';

/**
 * Message-waiting indication (issue 13, RFC 3842): a SIPp phone subscribes to its
 * mailbox's message summary on a live edge (unreleased area 'voicemail'), and the
 * test changes the mailbox as the voicemail application and the app do: a row in
 * voicemail_messages, then an event on VOICEMAIL_EVENTS_CHANNEL.
 */
let h: EdgeHarness;
beforeAll(async () => {
  h = await startEdge({ unreleased: 'voicemail' });
  await h.addPhone('101');
  await h.addPhone('102');
});
afterAll(() => h?.stop());

const publish = (event: VoicemailEvent) => h.redis.publish(VOICEMAIL_EVENTS_CHANNEL, JSON.stringify(event));

describe('SUBSCRIBE message-summary against SIPp', () => {
  it('notifies at once, when a message arrives and when it is heard, and once more when the phone unsubscribes', async () => {
    const phone = h.phones.get('101')!;
    const run = startSipp({ scenario: 'subscribe-message-summary.xml', target: h.target, localPort: await freeSipPort(), service: phone.username, auth: phone, timeoutSeconds: 60, vars: { mailbox: '101', event: 'message-summary' } });
    await run.ready;
    // The first NOTIFY ("no", 0/0) was answered: now a caller leaves a message.
    await expect.poll(() => run.logsSoFar(), { timeout: 30_000, interval: 50 }).toContain('notify-1 answered');
    expect(h.edge.messageWaiting!.subscriptionCount).toBe(1);
    const message = await h.db
      .insertInto('voicemail_messages')
      .values({ account_id: h.accountId, mailbox_extension_id: phone.extensionId, from_number: '+14155550100', to_number: '101', reason: 'no_answer', audio_path: 'voicemail/test.wav', duration_ms: 3000, size_bytes: 48_000 })
      .returning('id')
      .executeTakeFirstOrThrow();
    await publish({ kind: 'deposited', accountId: h.accountId, mailboxExtensionId: phone.extensionId, messageId: message.id });
    await expect.poll(() => run.logsSoFar(), { timeout: 30_000, interval: 50 }).toContain('notify-2 answered');
    // Read in the browser: heard, and the app's 'changed' event.
    await h.db.updateTable('voicemail_messages').set({ status: 'heard', heard_at: new Date() }).where('id', '=', message.id).execute();
    await publish({ kind: 'changed', accountId: h.accountId, mailboxExtensionId: phone.extensionId, messageId: message.id });
    const r = await run.done;
    expect(r.code, r.errors || r.output.slice(-2000)).toBe(0);
    expect(r.logs).toContain('notify-3 answered');
    // Unsubscribed: the table holds nothing of it.
    expect(h.edge.messageWaiting!.subscriptionCount).toBe(0);
  }, 120_000);

  it('notifies a phone subscribed to a mailbox shared with its extension (its message recipient), and refuses it to another phone', async () => {
    const reader = h.phones.get('101')!;
    const site = await h.db.selectFrom('sites').select('id').where('account_id', '=', h.accountId).where('is_main', '=', true).executeTakeFirstOrThrow();
    const shared = await h.db.insertInto('extensions').values({ account_id: h.accountId, site_id: site.id, number: '301', name: 'Front desk', type: 'message_only', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
    await h.db.insertInto('voicemail_settings').values({ account_id: h.accountId, extension_id: shared.id, recipient_extension_id: reader.extensionId, updated_at: new Date() }).execute();
    const other = await runSipp({ scenario: 'subscribe-other-mailbox.xml', target: h.target, localPort: await freeSipPort(), service: h.phones.get('102')!.username, auth: h.phones.get('102')!, vars: { mailbox: '301', event: 'message-summary' } });
    expect(other.code, other.errors || other.output.slice(-2000)).toBe(0);

    const run = startSipp({ scenario: 'subscribe-message-summary.xml', target: h.target, localPort: await freeSipPort(), service: reader.username, auth: reader, timeoutSeconds: 60, vars: { mailbox: '301', event: 'message-summary' } });
    await run.ready;
    await expect.poll(() => run.logsSoFar(), { timeout: 30_000, interval: 50 }).toContain('notify-1 answered');
    // A message in 101's own mailbox changes nothing on the shared mailbox's subscription.
    const own = await h.db
      .insertInto('voicemail_messages')
      .values({ account_id: h.accountId, mailbox_extension_id: reader.extensionId, from_number: '+14155550101', to_number: '101', reason: 'no_answer', audio_path: 'voicemail/own.wav', duration_ms: 3000, size_bytes: 48_000 })
      .returning('id')
      .executeTakeFirstOrThrow();
    await publish({ kind: 'deposited', accountId: h.accountId, mailboxExtensionId: reader.extensionId, messageId: own.id });
    const message = await h.db
      .insertInto('voicemail_messages')
      .values({ account_id: h.accountId, mailbox_extension_id: shared.id, from_number: '+14155550100', to_number: '301', reason: 'message_only', audio_path: 'voicemail/shared.wav', duration_ms: 3000, size_bytes: 48_000 })
      .returning('id')
      .executeTakeFirstOrThrow();
    await publish({ kind: 'deposited', accountId: h.accountId, mailboxExtensionId: shared.id, messageId: message.id });
    await expect.poll(() => run.logsSoFar(), { timeout: 30_000, interval: 50 }).toContain('notify-2 answered');
    await h.db.updateTable('voicemail_messages').set({ status: 'heard', heard_at: new Date() }).where('id', '=', message.id).execute();
    await publish({ kind: 'changed', accountId: h.accountId, mailboxExtensionId: shared.id, messageId: message.id });
    const r = await run.done;
    expect(r.code, r.errors || r.output.slice(-2000)).toBe(0);
    expect(r.logs).toContain('notify-3 answered');
    expect(h.edge.messageWaiting!.subscriptionCount).toBe(0);
  }, 120_000);

  it("refuses 403 a SUBSCRIBE to another extension's mailbox", async () => {
    const phone = h.phones.get('101')!;
    const r = await runSipp({ scenario: 'subscribe-other-mailbox.xml', target: h.target, localPort: await freeSipPort(), service: phone.username, auth: phone, vars: { mailbox: '102', event: 'message-summary' } });
    expect(r.code, r.errors || r.output.slice(-2000)).toBe(0);
    expect(h.edge.messageWaiting!.subscriptionCount).toBe(0);
  });

  it('answers 489 Bad Event to an event package it does not know', async () => {
    const phone = h.phones.get('101')!;
    const r = await runSipp({ scenario: 'subscribe-unknown-event.xml', target: h.target, localPort: await freeSipPort(), service: phone.username, vars: { mailbox: '101', event: 'presence' } });
    expect(r.code, r.errors || r.output.slice(-2000)).toBe(0);
  });
});

describe('SUBSCRIBE message-summary where voicemail is not released', () => {
  let hidden: EdgeHarness;
  beforeAll(async () => {
    hidden = await startEdge();
    await hidden.addPhone('101');
  });
  afterAll(() => hidden?.stop());

  it('answers 405, as before message-waiting existed', async () => {
    const phone = hidden.phones.get('101')!;
    const r = await runSipp({ scenario: 'subscribe-not-allowed.xml', target: hidden.target, localPort: await freeSipPort(), service: phone.username, vars: { mailbox: '101', event: 'message-summary' } });
    expect(r.code, r.errors || r.output.slice(-2000)).toBe(0);
    expect(hidden.edge.messageWaiting).toBeNull();
  });
});
