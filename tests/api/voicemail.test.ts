import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { Socket } from 'socket.io-client';
import { openPostgres, type Db } from '@carillon/db';
import { createJobProducer, createRedisConnection } from '@carillon/core/jobs';
import { parseVoicemailEvent, VOICEMAIL_EVENTS_CHANNEL, type VoicemailEvent } from '@carillon/contracts/voicemail-events';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { liveSocket as liveSocketOf } from '../support/live-socket.ts';
import { createStandardUsers } from '../support/softphone-users.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';
import { redisClient, redisUrl } from '../support/env.ts';
import { depositVoicemail, type DepositedMessage } from '../support/voicemail.ts';

/**
 * The voicemail inbox through the product (issue 13, deliverable 2 "Web
 * inbox"): messages are left as media-server leaves them (a WAV under
 * DATA_DIR, the row, a linked transcription, a 'deposited' event on Redis).
 * A user reads their own mailbox and the mailboxes shared with them;
 * marks, deletes to the trash and restores; plays the audio with byte ranges
 * and downloads it as MP3. Every change is announced on the voicemail
 * channel and reaches, live, the sockets of the mailbox's readers only.
 * Another user's or account's message is not found; bad input is a clear 400.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let sam: HttpClient;
let tom: HttpClient;
let ann: HttpClient;
let beta: HttpClient;
let publisher: Redis;
let listener: Redis;
const published: VoicemailEvent[] = [];
const sockets: Socket[] = [];
const PASSWORD = 'Meadow5Lantern';
const ext = { sam: '', tom: '', ann: '', beta: '' };
let accountId = '';
let betaAccountId = '';
let samOwn: DepositedMessage;
let samSecond: DepositedMessage;
let tomShared: DepositedMessage;
let betaMessage: DepositedMessage;

interface Message {
  id: string;
  mailboxExtensionId: string;
  fromNumber: string | null;
  durationMs: number;
  status: 'new' | 'heard';
  deletedAt: string | null;
  transcript: { status: string; text: string | null } | null;
}
interface Inbox {
  mailboxes: { extensionId: string; number: string; own: boolean }[];
  messages: Message[];
  unread: number;
}
interface LiveVoicemail {
  kind: string;
  mailboxExtensionId: string;
  messageId: string;
  unread: number;
}

const signedIn = async (email: string) => {
  const c = new HttpClient(product.url);
  expect((await c.form('/login', { identifier: email, password: PASSWORD })).status).toBe(303);
  return c;
};
const inbox = async (c: HttpClient, query = '') => {
  const res = await c.get(`/api/me/voicemail${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Inbox;
};
const message = (id: string) => `/api/me/voicemail/messages/${id}`;

/** A signed-in socket of the client, and every 'voicemail' event it hears (closed after the tests). */
async function liveSocket(client: HttpClient) {
  const live = await liveSocketOf<LiveVoicemail>(product.url, client, 'voicemail');
  sockets.push(live.socket);
  return live;
}

/** Waits until the app has announced a change of this message on the channel. */
async function announced(kind: VoicemailEvent['kind'], messageId: string): Promise<VoicemailEvent> {
  for (;;) {
    const found = published.find((e) => e.kind === kind && e.messageId === messageId);
    if (found) return found;
    await new Promise<void>((resolve) => listener.once('message', () => resolve()));
  }
}

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'voicemail');
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), REDIS_URL: redisUrl(), ENABLE_UNRELEASED: 'voicemail' });
  db = openPostgres(product.databaseUrl(), 2);
  publisher = redisClient();
  listener = redisClient();
  await listener.subscribe(VOICEMAIL_EVENTS_CHANNEL);
  // What the test publishes itself (bad events included) is on the channel too: only events are kept.
  listener.on('message', (_channel: string, raw: string) => {
    const event = parseVoicemailEvent(raw);
    if (event) published.push(event);
  });
  const admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  await createStandardUsers(db, [
    { extension: '201', name: 'sam', password: PASSWORD },
    { extension: '202', name: 'tom', password: PASSWORD },
    { extension: '203', name: 'ann', password: PASSWORD },
  ]);
  const users = await db.selectFrom('users').select(['email', 'extension_id', 'account_id']).execute();
  const of = (name: string) => users.find((u) => u.email.startsWith(`${name}@`))!;
  accountId = of('sam').account_id;
  ext.sam = of('sam').extension_id;
  ext.tom = of('tom').extension_id;
  ext.ann = of('ann').extension_id;
  // Tom's mailbox is shared with Sam (a message recipient other than the extension itself, X-07).
  await db.insertInto('voicemail_settings').values({ extension_id: ext.tom, account_id: accountId, recipient_extension_id: ext.sam, updated_at: new Date() }).execute();
  sam = await signedIn('sam@demo.carillon.localhost');
  tom = await signedIn('tom@demo.carillon.localhost');
  ann = await signedIn('ann@demo.carillon.localhost');
  const created = await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example']);
  beta = new HttpClient(product.url);
  expect((await activate(beta, created.link)).status).toBe(303);
  const betaUser = await db.selectFrom('users').select(['account_id', 'extension_id']).where('email', '=', 'boss@beta.example').executeTakeFirstOrThrow();
  betaAccountId = betaUser.account_id;
  ext.beta = betaUser.extension_id;

  samOwn = await depositVoicemail(db, product.dataDir, { accountId, mailboxExtensionId: ext.sam, fromName: 'Alice Martin', seconds: 4, transcript: 'Hi Sam, call me back about the invoice.', createdAt: new Date(Date.now() - 60_000) });
  samSecond = await depositVoicemail(db, product.dataDir, { accountId, mailboxExtensionId: ext.sam, fromNumber: null, seconds: 2, transcript: 'queued' });
  tomShared = await depositVoicemail(db, product.dataDir, { accountId, mailboxExtensionId: ext.tom, seconds: 3, createdAt: new Date(Date.now() - 120_000) });
  betaMessage = await depositVoicemail(db, product.dataDir, { accountId: betaAccountId, mailboxExtensionId: ext.beta, seconds: 1 });
}, 180_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  await publisher?.quit();
  await listener?.quit();
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

describe('the inbox', () => {
  it('lists the user’s own and shared mailboxes’ messages, newest first, with caller, duration, status and the transcript once completed', async () => {
    const view = await inbox(sam);
    expect(view.mailboxes).toEqual([
      { extensionId: ext.sam, number: '201', name: null, own: true },
      { extensionId: ext.tom, number: '202', name: null, own: false },
    ]);
    expect(view.messages.map((m) => m.id)).toEqual([samSecond.id, samOwn.id, tomShared.id]);
    expect(view.unread).toBe(3);
    const own = view.messages.find((m) => m.id === samOwn.id)!;
    expect(own).toMatchObject({ mailboxExtensionId: ext.sam, fromNumber: '+33612345678', durationMs: 4000, status: 'new', deletedAt: null, transcript: { status: 'completed', text: 'Hi Sam, call me back about the invoice.' } });
    // A transcript still being made shows its status, not a text; an anonymous caller has no number.
    expect(view.messages.find((m) => m.id === samSecond.id)).toMatchObject({ fromNumber: null, transcript: { status: 'queued', text: null } });
    expect(view.messages.find((m) => m.id === tomShared.id)!.transcript).toBeNull();
    // One mailbox at a time.
    expect((await inbox(sam, `?mailbox=${ext.tom}`)).messages.map((m) => m.id)).toEqual([tomShared.id]);
    expect((await (await sam.get('/api/me/voicemail/unread')).json())).toEqual({ unread: 3 });
    // The page has its Voicemail section and the badge (hidden elsewhere: answering-rules.test.ts).
    expect(await (await sam.get('/me/messages')).text()).toContain('data-testid="voicemail-inbox"');
    expect(await (await sam.get('/me')).text()).toContain('data-testid="voicemail-live"');
  });

  it('shows a mailbox only to its readers: the owner sees their own, not the mailbox it shares with them; a third user sees nothing', async () => {
    const tomView = await inbox(tom);
    expect(tomView.mailboxes.map((m) => m.extensionId)).toEqual([ext.tom]);
    expect(tomView.messages.map((m) => m.id)).toEqual([tomShared.id]);
    const annView = await inbox(ann);
    expect(annView).toEqual({ mailboxes: [{ extensionId: ext.ann, number: '203', name: null, own: true }], messages: [], unread: 0 });
    // Another mailbox named in the query is not the user's: nothing.
    expect((await inbox(ann, `?mailbox=${ext.sam}`)).messages).toEqual([]);
    for (const [method, url] of [['PATCH', message(samOwn.id)], ['DELETE', message(samOwn.id)], ['POST', `${message(samOwn.id)}/restore`], ['GET', `${message(samOwn.id)}/audio`]] as const) {
      expect((await ann.json(method, url, method === 'PATCH' ? { status: 'heard' } : undefined)).status, `${method} ${url}`).toBe(404);
    }
    expect((await db.selectFrom('voicemail_messages').select(['status', 'deleted_at']).where('id', '=', samOwn.id).executeTakeFirstOrThrow())).toEqual({ status: 'new', deleted_at: null });
  });

  it('answers 404 for another account’s message on every route, and changes nothing of theirs', async () => {
    for (const [method, url] of [['PATCH', message(betaMessage.id)], ['DELETE', message(betaMessage.id)], ['POST', `${message(betaMessage.id)}/restore`], ['GET', `${message(betaMessage.id)}/audio`]] as const) {
      expect((await sam.json(method, url, method === 'PATCH' ? { status: 'heard' } : undefined)).status, `${method} ${url}`).toBe(404);
    }
    expect((await inbox(sam)).messages.map((m) => m.id)).not.toContain(betaMessage.id);
    expect((await inbox(beta)).messages.map((m) => m.id)).toEqual([betaMessage.id]);
    expect((await db.selectFrom('voicemail_messages').select(['status', 'deleted_at']).where('id', '=', betaMessage.id).executeTakeFirstOrThrow())).toEqual({ status: 'new', deleted_at: null });
  });
});

describe('changes, announced live to the mailbox’s readers only', () => {
  it('marks read and unread: the count follows, the change is published, and both readers of the shared mailbox hear it', async () => {
    const samLive = await liveSocket(sam);
    const tomLive = await liveSocket(tom);
    const annLive = await liveSocket(ann);
    const read = await sam.json('PATCH', message(tomShared.id), { status: 'heard' });
    expect(read.status, await read.clone().text()).toBe(200);
    expect(await read.json()).toEqual({ status: 'heard', unread: 2 });
    expect(await announced('changed', tomShared.id)).toEqual({ kind: 'changed', accountId, mailboxExtensionId: ext.tom, messageId: tomShared.id });
    expect(await samLive.next((e) => e.messageId === tomShared.id)).toEqual({ kind: 'changed', mailboxExtensionId: ext.tom, messageId: tomShared.id, unread: 2 });
    expect(await tomLive.next((e) => e.messageId === tomShared.id)).toEqual({ kind: 'changed', mailboxExtensionId: ext.tom, messageId: tomShared.id, unread: 0 });
    expect((await inbox(tom)).messages[0]!.status).toBe('heard');
    const unread = await sam.json('PATCH', message(tomShared.id), { status: 'new' });
    expect(await unread.json()).toEqual({ status: 'new', unread: 3 });
    expect((await tomLive.next((e) => e.messageId === tomShared.id && e.unread === 1)).kind).toBe('changed');
    // Ann reads neither mailbox: a message of her own, published after, is the first thing she hears.
    const annOwn = await depositVoicemail(db, product.dataDir, { accountId, mailboxExtensionId: ext.ann, seconds: 1 });
    await publisher.publish(VOICEMAIL_EVENTS_CHANNEL, JSON.stringify({ kind: 'deposited', accountId, mailboxExtensionId: ext.ann, messageId: annOwn.id }));
    expect(await annLive.next(() => true)).toEqual({ kind: 'deposited', mailboxExtensionId: ext.ann, messageId: annOwn.id, unread: 1 });
    expect(annLive.heard).toHaveLength(1);
  });

  it('relays a deposit from media-server with the new count, and ignores malformed or forged events', async () => {
    const samLive = await liveSocket(sam);
    const fresh = await depositVoicemail(db, product.dataDir, { accountId, mailboxExtensionId: ext.sam, seconds: 2 });
    // Not events: garbage, a wrong shape, and another account naming Sam's mailbox (reaches nobody: scoped by account).
    await publisher.publish(VOICEMAIL_EVENTS_CHANNEL, 'not json');
    await publisher.publish(VOICEMAIL_EVENTS_CHANNEL, JSON.stringify({ kind: 'deleted-everything', accountId, mailboxExtensionId: ext.sam, messageId: fresh.id }));
    await publisher.publish(VOICEMAIL_EVENTS_CHANNEL, JSON.stringify({ kind: 'deposited', accountId: betaAccountId, mailboxExtensionId: ext.sam, messageId: fresh.id }));
    await publisher.publish(VOICEMAIL_EVENTS_CHANNEL, JSON.stringify({ kind: 'deposited', accountId, mailboxExtensionId: ext.sam, messageId: fresh.id }));
    const heard = await samLive.next((e) => e.messageId === fresh.id);
    expect(heard).toEqual({ kind: 'deposited', mailboxExtensionId: ext.sam, messageId: fresh.id, unread: 4 });
    // Redis delivers a channel's messages in order: the three bad ones came before and were dropped.
    expect(samLive.heard.filter((e) => e.messageId === fresh.id)).toHaveLength(1);
    await db.deleteFrom('voicemail_messages').where('id', '=', fresh.id).execute();
  });

  it('deletes to the trash and restores from it, each announced', async () => {
    const del = await sam.json('DELETE', message(samOwn.id));
    expect(del.status).toBe(204);
    expect(await announced('changed', samOwn.id)).toMatchObject({ mailboxExtensionId: ext.sam });
    const after = await inbox(sam);
    expect(after.messages.map((m) => m.id)).not.toContain(samOwn.id);
    expect(after.unread).toBe(2);
    const trash = await inbox(sam, '?folder=trash');
    expect(trash.messages.map((m) => m.id)).toEqual([samOwn.id]);
    expect(trash.messages[0]!.deletedAt).not.toBeNull();
    // The file stays while the message is in the trash.
    expect(fs.existsSync(samOwn.file)).toBe(true);
    // Deleting again keeps it in the trash, from the first date.
    const deletedAt = trash.messages[0]!.deletedAt;
    expect((await sam.json('DELETE', message(samOwn.id))).status).toBe(204);
    expect((await inbox(sam, '?folder=trash')).messages[0]!.deletedAt).toBe(deletedAt);
    const restored = await sam.json('POST', `${message(samOwn.id)}/restore`);
    expect(restored.status).toBe(200);
    expect(await restored.json()).toEqual({ restored: true, unread: 3 });
    expect((await inbox(sam)).messages.map((m) => m.id)).toContain(samOwn.id);
    expect((await inbox(sam, '?folder=trash')).messages).toEqual([]);
    // A message that is not in the trash cannot be restored.
    expect((await sam.json('POST', `${message(samOwn.id)}/restore`)).status).toBe(404);
  });

  it('schedules the sweep that purges the trash after 30 days', async () => {
    const { Queue } = await import('bullmq');
    const connection = createRedisConnection(redisUrl());
    const queue = new Queue('recording-export', { connection, prefix: product.queuePrefix });
    try {
      expect((await queue.getJobSchedulers()).map((s) => s.name)).toContain('sweep-expired');
    } finally {
      await queue.close();
      await connection.quit();
    }
  });

  it('announces a finished transcript (the workers’ "transcribed") so the inbox shows it live', async () => {
    const samLive = await liveSocket(sam);
    // Read speech from Debian's pocketsphinx test data, transcribed by the product's own workers.
    const speech = fs.readFileSync('/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav');
    const spoken = await depositVoicemail(db, product.dataDir, { accountId, mailboxExtensionId: ext.sam, wav: speech, transcript: 'queued' });
    const connection = createRedisConnection(redisUrl());
    const producer = createJobProducer(connection, product.queuePrefix);
    try {
      await producer.add('transcription', 'transcribe', { accountId, userId: null, transcriptionId: spoken.transcriptionId! }, { jobId: spoken.transcriptionId! });
      const heard = await samLive.next((e) => e.messageId === spoken.id && e.kind === 'transcribed');
      expect(heard.mailboxExtensionId).toBe(ext.sam);
      const shown = (await inbox(sam)).messages.find((m) => m.id === spoken.id)!;
      expect(shown.transcript?.status).toBe('completed');
      expect(shown.transcript?.text?.length).toBeGreaterThan(0);
    } finally {
      await producer.close();
      await connection.quit();
    }
    await db.deleteFrom('voicemail_messages').where('id', '=', spoken.id).execute();
  }, 120_000);
});

describe('the audio', () => {
  it('streams the WAV whole, and by byte ranges so that the player can seek', async () => {
    const wav = fs.readFileSync(samOwn.file);
    const whole = await sam.get(`${message(samOwn.id)}/audio`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('audio/wav');
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await whole.arrayBuffer()).equals(wav)).toBe(true);
    const part = await sam.request('GET', `${message(samOwn.id)}/audio`, undefined, { range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${wav.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(wav.subarray(100, 200))).toBe(true);
    const open = await sam.request('GET', `${message(samOwn.id)}/audio`, undefined, { range: `bytes=${wav.length - 10}-` });
    expect(open.status).toBe(206);
    expect(Buffer.from(await open.arrayBuffer()).equals(wav.subarray(wav.length - 10))).toBe(true);
    const suffix = await sam.request('GET', `${message(samOwn.id)}/audio`, undefined, { range: 'bytes=-44' });
    expect(Buffer.from(await suffix.arrayBuffer()).equals(wav.subarray(wav.length - 44))).toBe(true);
    const beyond = await sam.request('GET', `${message(samOwn.id)}/audio`, undefined, { range: `bytes=${wav.length}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${wav.length}`);
  });

  it('downloads the message as WAV or MP3', async () => {
    const wav = await sam.get(`${message(samOwn.id)}/audio?download=wav`);
    expect(wav.status).toBe(200);
    expect(wav.headers.get('content-disposition')).toMatch(/^attachment; filename="voicemail-\d{14}-\+33612345678\.wav"$/);
    const mp3 = await sam.get(`${message(samOwn.id)}/audio?download=mp3`);
    expect(mp3.status, await mp3.clone().text()).toBe(200);
    expect(mp3.headers.get('content-type')).toBe('audio/mpeg');
    expect(mp3.headers.get('content-disposition')).toMatch(/\.mp3"$/);
    const bytes = Buffer.from(await mp3.arrayBuffer());
    // An ID3 tag or an MPEG audio frame sync.
    expect(bytes.subarray(0, 3).toString('latin1') === 'ID3' || (bytes[0] === 0xff && (bytes[1]! & 0xe0) === 0xe0)).toBe(true);
  });

  it('answers 404 when the file of a message is missing, never another file', async () => {
    const gone = await depositVoicemail(db, product.dataDir, { accountId, mailboxExtensionId: ext.sam, seconds: 1 });
    fs.rmSync(gone.file);
    expect((await sam.get(`${message(gone.id)}/audio`)).status).toBe(404);
    // A row pointing outside DATA_DIR is refused too.
    await db.updateTable('voicemail_messages').set({ audio_path: path.posix.join('..', '..', 'etc', 'passwd') }).where('id', '=', gone.id).execute();
    expect((await sam.get(`${message(gone.id)}/audio`)).status).toBe(404);
    await db.deleteFrom('voicemail_messages').where('id', '=', gone.id).execute();
  });
});

describe('bad input: a clear 400, and nothing changed', () => {
  it('refuses an id that is not a UUID, a bad body, a bad query', async () => {
    const badId = await sam.json('PATCH', message('not-a-uuid'), { status: 'heard' });
    expect(badId.status).toBe(400);
    expect(await badId.json()).toEqual({ error: 'invalid_id', message: 'the message id must be a UUID' });
    for (const [method, url] of [['DELETE', message('1234')], ['POST', `${message('x')}/restore`], ['GET', `${message('x')}/audio`]] as const) {
      expect((await sam.json(method, url)).status, `${method} ${url}`).toBe(400);
    }
    const badStatus = await sam.json('PATCH', message(samOwn.id), { status: 'read' });
    expect(badStatus.status).toBe(400);
    expect(((await badStatus.json()) as { error: string; fields: Record<string, string> }).fields).toHaveProperty('status');
    const extra = await sam.json('PATCH', message(samOwn.id), { status: 'heard', deleted: true });
    expect(extra.status).toBe(400);
    expect(((await extra.json()) as { error: string }).error).toBe('invalid_body');
    const notJson = await sam.request('PATCH', message(samOwn.id), '{status', { 'content-type': 'application/json' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: string }).error).toBe('invalid_json');
    for (const query of ['?folder=bin', '?mailbox=201', '?limit=5']) {
      const res = await sam.get(`/api/me/voicemail${query}`);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_query');
    }
    expect((await sam.get(`${message(samOwn.id)}/audio?download=ogg`)).status).toBe(400);
    expect((await db.selectFrom('voicemail_messages').select(['status', 'deleted_at']).where('id', '=', samOwn.id).executeTakeFirstOrThrow())).toEqual({ status: 'new', deleted_at: null });
  });
});

describe('retention (issue 13: per account, 365 days by default)', () => {
  const retentionOf = async (id: string) => (await db.selectFrom('accounts').select(['voicemail_retention_days', 'session_timeout_minutes']).where('id', '=', id).executeTakeFirstOrThrow());

  it('an admin sets it in Admin › More, for their account only, audited; a value out of range is refused and nothing changes', async () => {
    // Past quick setup, so that the admin pages open.
    await db.updateTable('accounts').set({ setup_completed_at: new Date() }).where('id', '=', betaAccountId).execute();
    const before = await retentionOf(betaAccountId);
    expect(before.voicemail_retention_days).toBe(365);
    const page = await beta.get('/admin/more');
    expect(await page.text()).toContain('Keep voicemail messages for (days)');
    const sessionTimeoutMinutes = String(before.session_timeout_minutes);

    for (const bad of ['0', '3651', '12.5', 'forever']) {
      const refused = await beta.form('/admin/more', { sessionTimeoutMinutes, voicemailRetentionDays: bad });
      expect(refused.status, bad).toBe(400);
    }
    expect((await retentionOf(betaAccountId)).voicemail_retention_days).toBe(365);

    const saved = await beta.form('/admin/more', { sessionTimeoutMinutes, voicemailRetentionDays: '90' });
    expect(saved.status).toBe(200);
    expect((await retentionOf(betaAccountId)).voicemail_retention_days).toBe(90);
    expect((await retentionOf(accountId)).voicemail_retention_days).toBe(365);
    const audit = await db.selectFrom('audit_events').select(['action', 'before', 'after']).where('account_id', '=', betaAccountId).where('action', '=', 'account.settings_updated').executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ before: { voicemail_retention_days: 365 }, after: { voicemail_retention_days: 90 } });
  });

  it('a user without the account settings permission cannot set it', async () => {
    const tried = await sam.form('/admin/more', { sessionTimeoutMinutes: '60', voicemailRetentionDays: '1' });
    expect(tried.status).not.toBe(200);
    expect((await retentionOf(accountId)).voicemail_retention_days).toBe(365);
  });
});
