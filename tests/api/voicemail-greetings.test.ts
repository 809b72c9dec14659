import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type Db } from '@carillon/db';
import { ffmpegPath } from '@carillon/core/audio';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createStandardUsers } from '../support/softphone-users.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';
import { redisUrl } from '../support/env.ts';
import { toneWav } from '../support/voicemail.ts';

/**
 * Voicemail greetings per answering rule through the product (issue 13): a
 * user uploads, replaces and resets their rules' greetings; an administrator
 * does the same for a user of the account (audited); the file is converted
 * once to the media format under DATA_DIR. Bad input is refused with a clear
 * error and the greeting the rule had stays, file and all: a body over the
 * limit (declared by Content-Length, or streamed without one, refused before
 * it has all arrived), a file named .mp3 that is not audio. Another account's
 * user and a rule the user does not have are not found.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let admin: HttpClient;
let sam: HttpClient;
let beta: HttpClient;
let accountId = '';
let samId = '';
let betaUserId = '';
const PASSWORD = 'Meadow5Lantern';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'greetings-api-'));

interface GreetingView {
  rule: string;
  greeting: { source: 'default' } | { source: 'custom'; audioId: string };
  durationMs: number | null;
  originalName: string | null;
}

const put = (client: HttpClient, url: string, body: Uint8Array, query = 'name=greeting.wav', type = 'audio/wav') => client.request('PUT', `${url}?${query}`, body, { 'content-type': type });
const greetingRows = () => db.selectFrom('voicemail_greetings').select(['id', 'user_id', 'file', 'source', 'duration_ms']).where('account_id', '=', accountId).execute();
const greetingFiles = () => {
  const dir = path.join(product.dataDir, 'greetings', accountId);
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
};
const ruleGreeting = async (userId: string, kind: string) =>
  ((await db.selectFrom('answering_rules').select('handling').where('user_id', '=', userId).where('kind', '=', kind as 'in_hours').executeTakeFirst())?.handling as { greeting?: unknown } | undefined)?.greeting;

/** What must hold after a refusal: the same greeting rows, files and rule pointer as before. */
async function snapshot() {
  return { rows: await greetingRows(), files: greetingFiles(), rule: await ruleGreeting(samId, 'in_hours') };
}

/** A request written by hand, so that the test chooses its headers (a lying Content-Length) and its pace. */
/**
 * `status` 0: the server closed the connection under the body before its answer could be read (it answers,
 * then closes; a write of ours in flight then fails with EPIPE or ECONNRESET and the answer is lost).
 */
function rawPut(url: string, headers: Record<string, string>, write: (req: http.ClientRequest, answered: () => boolean) => Promise<void>): Promise<{ status: number; body: string; sent: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = http.request(product.url + url, { method: 'PUT', headers: { origin: product.url, cookie: sam.cookieHeader(), 'content-type': 'audio/mpeg', ...headers } }, (res) => {
      answered = true;
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body, sent });
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (answered) return;
      if (err.code === 'EPIPE' || err.code === 'ECONNRESET') resolve({ status: 0, body: '', sent });
      else reject(err);
    });
    const origWrite = req.write.bind(req) as (chunk: Buffer) => boolean;
    (req as unknown as { write: (chunk: Buffer) => boolean }).write = (chunk: Buffer) => {
      sent += chunk.length;
      return origWrite(chunk);
    };
    write(req, () => answered).catch(reject);
  });
}

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'greetings');
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), REDIS_URL: redisUrl(), ENABLE_UNRELEASED: 'answering_rules' });
  db = openPostgres(product.databaseUrl(), 2);
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  await createStandardUsers(db, [{ extension: '201', name: 'sam', password: PASSWORD }]);
  const samU = await db.selectFrom('users').select(['id', 'account_id']).where('email', 'like', 'sam@%').executeTakeFirstOrThrow();
  samId = samU.id;
  accountId = samU.account_id;
  sam = new HttpClient(product.url);
  expect((await sam.form('/login', { identifier: 'sam@demo.carillon.localhost', password: PASSWORD })).status).toBe(303);
  const created = await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example']);
  beta = new HttpClient(product.url);
  expect((await activate(beta, created.link)).status).toBe(303);
  betaUserId = ((await (await beta.get('/api/me')).json()) as { id: string }).id;
  fs.writeFileSync(path.join(work, 'tone.wav'), toneWav(2, 16000, 600));
  execFileSync(ffmpegPath(process.env.FFMPEG_PATH), ['-loglevel', 'error', '-y', '-i', path.join(work, 'tone.wav'), path.join(work, 'tone.mp3')]);
}, 180_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('a user’s own greetings', () => {
  const url = '/api/me/answering-rules/greetings/in_hours';

  it('plays the default greeting until one is uploaded: no audio to fetch', async () => {
    expect((await sam.get(url)).status).toBe(404);
  });

  it('takes a WAV, converts it once to 8 kHz mono, and the rule names it; the page’s player gets it', async () => {
    const res = await put(sam, url, fs.readFileSync(path.join(work, 'tone.wav')), 'name=hello.wav');
    expect(res.status, await res.clone().text()).toBe(200);
    const view = (await res.json()) as GreetingView;
    expect(view).toMatchObject({ rule: 'in_hours', greeting: { source: 'custom' }, originalName: 'hello.wav' });
    expect(view.durationMs).toBeGreaterThan(1900);
    const rows = await greetingRows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ user_id: samId, source: 'upload' });
    expect(await ruleGreeting(samId, 'in_hours')).toEqual(view.greeting);
    const stored = fs.readFileSync(path.join(product.dataDir, rows[0]!.file));
    expect([stored.readUInt16LE(22), stored.readUInt32LE(24)]).toEqual([1, 8000]);
    const audio = await sam.get(url);
    expect(audio.status).toBe(200);
    expect(audio.headers.get('content-type')).toBe('audio/wav');
    expect(Buffer.from(await audio.arrayBuffer()).equals(stored)).toBe(true);
    // The rules document shows it, and saving the document (a page opened before the upload) keeps it.
    const doc = ((await (await sam.get('/api/me/answering-rules')).json()) as { answering: { inHours: { greeting: unknown } } }).answering;
    expect(doc.inHours.greeting).toEqual(view.greeting);
    const saved = await sam.json('PUT', '/api/me/answering-rules', { ...doc, inHours: { ...doc.inHours, greeting: { source: 'default' } } });
    expect(saved.status, await saved.clone().text()).toBe(200);
    expect(await ruleGreeting(samId, 'in_hours')).toEqual(view.greeting);
  });

  it('replaces it with an MP3: the new file is stored, then the old one removed', async () => {
    const [old] = await greetingRows();
    const res = await put(sam, url, fs.readFileSync(path.join(work, 'tone.mp3')), 'name=new.mp3', 'audio/mpeg');
    expect(res.status, await res.clone().text()).toBe(200);
    const view = (await res.json()) as GreetingView;
    const rows = await greetingRows();
    expect(rows.map((r) => r.id)).toEqual([(view.greeting as { audioId: string }).audioId]);
    expect(fs.existsSync(path.join(product.dataDir, old!.file))).toBe(false);
    expect(fs.existsSync(path.join(product.dataDir, rows[0]!.file))).toBe(true);
    expect(greetingFiles()).toEqual([path.basename(rows[0]!.file)]);
  });

  it('refuses a file named .mp3 that is not audio, and keeps the greeting it had', async () => {
    const before = await snapshot();
    const res = await put(sam, url, new TextEncoder().encode('<html>this is not a song</html>'.repeat(50)), 'name=song.mp3', 'audio/mpeg');
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: 'not_audio', message: expect.stringMatching(/not a WAV or MP3/) });
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a silent recording (a muted microphone), and keeps the greeting it had', async () => {
    const before = await snapshot();
    // A tone of 0 Hz: two seconds of zeros, as a muted microphone records them.
    const res = await put(sam, url, toneWav(2, 16000, 0), 'source=browser&name=recording.wav');
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: 'silent', message: expect.stringMatching(/silent/) });
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a 2 GB upload by its Content-Length before reading it, and keeps the greeting it had', async () => {
    const before = await snapshot();
    const answer = await rawPut(url + '?name=huge.mp3', { 'content-length': String(2 * 1024 ** 3) }, async (req) => {
      // The body's first bytes only: the refusal must come from the declared length, without the rest (and no
      // write of ours is in flight when the server answers and closes).
      req.write(Buffer.alloc(64 * 1024, 0xff));
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'too_large', maxBytes: 10 * 1024 * 1024 });
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a streamed upload (no Content-Length) as soon as it passes the limit, without taking it all', async () => {
    const before = await snapshot();
    const total = 200 * 1024 * 1024;
    const answer = await rawPut(url + '?name=endless.mp3', { 'transfer-encoding': 'chunked' }, async (req, answered) => {
      const chunk = Buffer.alloc(256 * 1024, 0xff);
      const closed = new Promise((r) => req.once('close', r));
      let written = 0;
      while (!answered() && written < total) {
        written += chunk.length;
        if (!req.write(chunk)) await Promise.race([new Promise((r) => req.once('drain', r)), closed]);
      }
      if (!answered()) req.end();
    });
    // Refused while the client was still sending: past the 10 MB limit, far less than the 200 MB it had to send.
    // The 413 is read unless a write of ours was in flight when the server answered and closed.
    if (answer.status !== 0) {
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'too_large' });
    }
    expect(answer.sent).toBeGreaterThan(10 * 1024 * 1024);
    expect(answer.sent).toBeLessThan(64 * 1024 * 1024);
    expect(await snapshot()).toEqual(before);
  });

  it('resets to the default greeting: the rule plays it and the custom file is removed', async () => {
    const res = await sam.request('DELETE', url);
    expect(res.status).toBe(200);
    expect(((await res.json()) as GreetingView).greeting).toEqual({ source: 'default' });
    expect(await ruleGreeting(samId, 'in_hours')).toEqual({ source: 'default' });
    expect(await greetingRows()).toEqual([]);
    expect(greetingFiles()).toEqual([]);
    expect((await sam.get(url)).status).toBe(404);
  });

  it('keeps one greeting per rule: a custom rule’s greeting goes with the rule when it is deleted', async () => {
    const doc = ((await (await sam.get('/api/me/answering-rules')).json()) as { answering: { inHours: object; custom: object[] } }).answering;
    const saved = await sam.json('PUT', '/api/me/answering-rules', { ...doc, custom: [{ ...doc.inHours, name: 'Boss', enabled: true, conditions: [{ type: 'caller_id', numbers: ['+14155550123'], contactIds: [] }] }] });
    expect(saved.status, await saved.clone().text()).toBe(200);
    const ruleId = ((await saved.json()) as { answering: { custom: { id: string }[] } }).answering.custom[0]!.id;
    const after = await put(sam, '/api/me/answering-rules/greetings/after_hours', fs.readFileSync(path.join(work, 'tone.wav')));
    const boss = await put(sam, `/api/me/answering-rules/greetings/${ruleId}`, fs.readFileSync(path.join(work, 'tone.mp3')), 'name=boss.mp3', 'audio/mpeg');
    expect([after.status, boss.status]).toEqual([200, 200]);
    expect(await greetingRows()).toHaveLength(2);
    const removed = await sam.json('PUT', '/api/me/answering-rules', { ...doc, custom: [] });
    expect(removed.status).toBe(200);
    const rows = await greetingRows();
    expect(rows.map((r) => r.id)).toEqual([((await after.json()) as GreetingView & { greeting: { audioId: string } }).greeting.audioId]);
    expect(greetingFiles()).toEqual([path.basename(rows[0]!.file)]);
    // A rule the user does not have (now deleted) is not found.
    expect((await put(sam, `/api/me/answering-rules/greetings/${ruleId}`, fs.readFileSync(path.join(work, 'tone.wav')))).status).toBe(404);
    expect((await put(sam, '/api/me/answering-rules/greetings/lunch', fs.readFileSync(path.join(work, 'tone.wav')))).status).toBe(404);
  });

  it('refuses a bad query with the field named', async () => {
    const res = await put(sam, url, fs.readFileSync(path.join(work, 'tone.wav')), 'source=fax');
    expect(res.status).toBe(400);
  });
});

describe('an administrator’s changes to a user’s greetings', () => {
  const url = () => `/api/users/${samId}/answering-rules/greetings/after_hours`;

  it('replaces a user’s greeting, audited with the administrator as actor', async () => {
    const res = await put(admin, url(), fs.readFileSync(path.join(work, 'tone.wav')), 'name=admin.wav');
    expect(res.status, await res.clone().text()).toBe(200);
    const trail = await db
      .selectFrom('audit_events')
      .select(['actor_user_id', 'after'])
      .where('action', '=', 'user.voicemail_greeting_changed')
      .where('target_id', '=', samId)
      .orderBy('occurred_at', 'desc')
      .executeTakeFirstOrThrow();
    const adminId = ((await (await admin.get('/api/me')).json()) as { id: string }).id;
    expect(trail.actor_user_id).toBe(adminId);
    expect(trail.after).toMatchObject({ rule: 'after_hours', source: 'upload', originalName: 'admin.wav' });
    expect((await admin.get(url())).status).toBe(200);
    expect((await admin.request('DELETE', url())).status).toBe(200);
    expect(await ruleGreeting(samId, 'after_hours')).toEqual({ source: 'default' });
  });

  it('does not find another account’s user, and changes nothing there', async () => {
    const before = await greetingRows();
    expect((await put(admin, `/api/users/${betaUserId}/answering-rules/greetings/in_hours`, fs.readFileSync(path.join(work, 'tone.wav')))).status).toBe(404);
    expect((await admin.request('DELETE', `/api/users/${betaUserId}/answering-rules/greetings/in_hours`)).status).toBe(404);
    expect((await beta.request('PUT', `/api/users/${samId}/answering-rules/greetings/in_hours?name=x.wav`, fs.readFileSync(path.join(work, 'tone.wav')), { 'content-type': 'audio/wav' })).status).toBe(404);
    expect(await greetingRows()).toEqual(before);
    expect(await db.selectFrom('voicemail_greetings').select('id').where('user_id', '=', betaUserId).execute()).toEqual([]);
  });

  it('refuses a user without the users permission', async () => {
    expect((await put(sam, url(), fs.readFileSync(path.join(work, 'tone.wav')))).status).toBe(403);
  });
});

describe('deleting the user', () => {
  it('removes their greetings, their messages and transcripts from the disk and the database, and only theirs', async () => {
    expect((await put(admin, `/api/users/${samId}/answering-rules/greetings/in_hours`, fs.readFileSync(path.join(work, 'tone.wav')))).status).toBe(200);
    const greetings = await db.selectFrom('voicemail_greetings').select('file').where('user_id', '=', samId).execute();
    expect(greetings).toHaveLength(1);
    // A message in Sam's mailbox, with the MP3 made for e-mails and its transcript, as a deposit leaves them.
    const ext = (await db.selectFrom('users').select('extension_id').where('id', '=', samId).executeTakeFirstOrThrow()).extension_id;
    const message = `voicemail/${accountId}/sam-message.wav`;
    const transcriptAudio = `transcriptions/${accountId}/sam-message.wav`;
    for (const file of [message, message.replace(/\.wav$/, '.mp3'), transcriptAudio]) {
      fs.mkdirSync(path.dirname(path.join(product.dataDir, file)), { recursive: true });
      fs.copyFileSync(path.join(work, 'tone.wav'), path.join(product.dataDir, file));
    }
    const transcript = await db
      .insertInto('transcriptions')
      .values({ account_id: accountId, extension_id: ext, language: 'en', status: 'completed', file_name: 'sam-message.wav', size_bytes: 1000, audio_path: transcriptAudio, text: 'call me back' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('voicemail_messages')
      .values({ account_id: accountId, mailbox_extension_id: ext, to_number: '201', reason: 'no_answer', audio_path: message, duration_ms: 2000, size_bytes: 32044, transcription_id: transcript.id })
      .execute();
    // Someone else's file in the same folders stays.
    const othersFile = path.join(product.dataDir, `voicemail/${accountId}/someone-else.wav`);
    fs.copyFileSync(path.join(work, 'tone.wav'), othersFile);

    const res = await admin.json('POST', '/api/users/bulk', { action: 'delete', userIds: [samId] });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { results: { result: string }[] }).results).toEqual([{ userId: samId, result: 'changed' }]);

    for (const file of [...greetings.map((g) => g.file), message, message.replace(/\.wav$/, '.mp3'), transcriptAudio]) expect(fs.existsSync(path.join(product.dataDir, file)), file).toBe(false);
    expect(fs.existsSync(othersFile)).toBe(true);
    expect(await db.selectFrom('transcriptions').select('id').where('id', '=', transcript.id).execute()).toEqual([]);
    expect(await db.selectFrom('voicemail_greetings').select('id').where('user_id', '=', samId).execute()).toEqual([]);
  });
});
