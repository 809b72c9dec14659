import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type Db } from '@carillon/db';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createStandardUsers } from '../support/softphone-users.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';
import { redisUrl } from '../support/env.ts';
import { toneWav } from '../support/voicemail.ts';

/**
 * A user's recorded name through the product (issues 13 and 14): the user records (browser) or
 * uploads it, hears it back, replaces and removes it; an administrator does the same for a user of
 * the account (audited, with the administrator as actor). The audio is converted once to the media
 * format under DATA_DIR/names/<account>/. Bad input is refused with a clear error and the recording
 * the user had stays, file and all: a file that is not audio, a silent recording, one too long, a
 * body over the limit. A user without the users permission cannot change another's; another
 * account's user is not found.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let admin: HttpClient;
let sam: HttpClient;
let beta: HttpClient;
let accountId = '';
let samId = '';
let adminId = '';
let betaUserId = '';
const PASSWORD = 'Meadow5Lantern';
const ME = '/api/me/name-recording';

interface NameView {
  nameRecording: { durationMs: number; source: 'upload' | 'browser' | 'phone'; createdAt: string } | null;
}

const put = (client: HttpClient, url: string, body: Uint8Array, query = 'source=browser', type = 'audio/wav') => client.request('PUT', `${url}?${query}`, body, { 'content-type': type });
const rows = () => db.selectFrom('user_name_recordings').select(['user_id', 'file', 'source', 'duration_ms', 'created_by']).where('account_id', '=', accountId).orderBy('user_id').execute();
const files = () => {
  const dir = path.join(product.dataDir, 'names', accountId);
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
};
const snapshot = async () => ({ rows: await rows(), files: files() });
/** Sam saying their name: a second and a half of 500 Hz, recorded at 16 kHz. */
const NAME = toneWav(1.5, 16000, 500);

/**
 * A PUT written by hand: the server answers a body too large before reading it and closes the
 * connection (RFC 9110 §15.5.14), which fetch reports as a failed write rather than the answer.
 */
function largePut(url: string, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(product.url + url, { method: 'PUT', headers: { origin: product.url, cookie: sam.cookieHeader(), 'content-type': 'audio/wav', 'content-length': String(body.length) } }, (res) => {
      answered = true;
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: text });
      });
    });
    // The connection closed under the rest of the body: only an error before any answer counts.
    req.on('error', (err) => (answered ? undefined : reject(err)));
    // The body's first bytes only: the refusal must come from the declared length, without the rest.
    req.write(body.subarray(0, 64 * 1024));
  });
}

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'namerec');
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), REDIS_URL: redisUrl(), ENABLE_UNRELEASED: 'answering_rules' });
  db = openPostgres(product.databaseUrl(), 2);
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  adminId = ((await (await admin.get('/api/me')).json()) as { id: string }).id;
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
}, 180_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

describe('a user’s own recorded name', () => {
  it('has none at first: no audio to play', async () => {
    expect((await sam.get(ME)).status).toBe(404);
    expect(await rows()).toEqual([]);
  });

  it('takes a recording from the browser, converted once to 8 kHz mono; the page’s player gets it; audited', async () => {
    const res = await put(sam, ME, NAME);
    expect(res.status, await res.clone().text()).toBe(200);
    const view = (await res.json()) as NameView;
    expect(view.nameRecording).toMatchObject({ source: 'browser' });
    expect(view.nameRecording!.durationMs).toBeGreaterThan(1400);
    const [row] = await rows();
    expect(row).toMatchObject({ user_id: samId, source: 'browser', created_by: samId });
    expect(row!.file.startsWith(`names/${accountId}/`)).toBe(true);
    const stored = fs.readFileSync(path.join(product.dataDir, row!.file));
    expect([stored.readUInt16LE(22), stored.readUInt32LE(24)]).toEqual([1, 8000]);
    const audio = await sam.get(ME);
    expect(audio.status).toBe(200);
    expect(audio.headers.get('content-type')).toBe('audio/wav');
    expect(Buffer.from(await audio.arrayBuffer()).equals(stored)).toBe(true);
    const trail = await db.selectFrom('audit_events').select(['actor_user_id', 'before', 'after']).where('action', '=', 'user.name_recording_changed').where('target_id', '=', samId).executeTakeFirstOrThrow();
    expect(trail).toMatchObject({ actor_user_id: samId, before: { recorded: false }, after: { recorded: true, source: 'browser' } });
  });

  it('replaces it with an upload: the new file is stored, the old one removed, one row still', async () => {
    const [old] = await rows();
    const res = await put(sam, ME, toneWav(2, 8000, 700), 'source=upload&name=sam.wav');
    expect(res.status, await res.clone().text()).toBe(200);
    const now = await rows();
    expect(now).toHaveLength(1);
    expect(now[0]).toMatchObject({ source: 'upload' });
    expect(now[0]!.file).not.toBe(old!.file);
    expect(fs.existsSync(path.join(product.dataDir, old!.file))).toBe(false);
    expect(files()).toEqual([path.basename(now[0]!.file)]);
    const trail = await db.selectFrom('audit_events').select('after').where('action', '=', 'user.name_recording_changed').where('target_id', '=', samId).orderBy('occurred_at', 'desc').executeTakeFirstOrThrow();
    expect(trail.after).toMatchObject({ recorded: true, source: 'upload', originalName: 'sam.wav' });
  });

  it('refuses a file that is not audio, and keeps the recording it had', async () => {
    const before = await snapshot();
    const res = await put(sam, ME, new TextEncoder().encode('<html>my name is Sam</html>'.repeat(20)), 'source=upload', 'audio/mpeg');
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: 'not_audio', message: expect.stringMatching(/not a WAV or MP3/) });
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a silent recording (a muted microphone), and keeps the recording it had', async () => {
    const before = await snapshot();
    const res = await put(sam, ME, toneWav(2, 16000, 0));
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: 'silent', message: expect.stringMatching(/silent/) });
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a recording longer than 10 seconds (a name is a few words)', async () => {
    const before = await snapshot();
    const res = await put(sam, ME, toneWav(12, 8000, 500));
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: 'too_long', message: expect.stringMatching(/10 seconds/) });
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a body over 4 MB with 413 by its Content-Length, and keeps the recording it had', async () => {
    const before = await snapshot();
    // 4.3 MB of 48 kHz audio: over the limit whatever it holds.
    const answer = await largePut(ME + '?source=upload', toneWav(45, 48000, 500));
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'too_large', maxBytes: 4 * 1024 * 1024 });
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a bad query with the field named', async () => {
    const before = await snapshot();
    const res = await put(sam, ME, NAME, 'source=phone');
    expect((await put(sam, ME, NAME, 'source=upload&colour=red')).status).toBe(400);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_query' });
    expect(await snapshot()).toEqual(before);
  });

  it('removes it: no row, no file, no audio; removing it again is harmless', async () => {
    const res = await sam.request('DELETE', ME);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ nameRecording: null });
    expect(await rows()).toEqual([]);
    expect(files()).toEqual([]);
    expect((await sam.get(ME)).status).toBe(404);
    expect((await sam.request('DELETE', ME)).status).toBe(200);
    const trail = await db.selectFrom('audit_events').select('after').where('action', '=', 'user.name_recording_changed').where('target_id', '=', samId).execute();
    // Set, replaced, removed: the second removal changed nothing and is not in the trail.
    expect(trail.map((t) => (t.after as { recorded: boolean }).recorded)).toEqual([true, true, false]);
  });
});

describe('an administrator and a user’s recorded name', () => {
  const url = () => `/api/users/${samId}/name-recording`;

  it('records a user’s name, audited with the administrator as actor; plays and removes it', async () => {
    const res = await put(admin, url(), NAME);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await rows()).toMatchObject([{ user_id: samId, created_by: adminId }]);
    const trail = await db.selectFrom('audit_events').select(['actor_user_id', 'after']).where('action', '=', 'user.name_recording_changed').where('target_id', '=', samId).orderBy('occurred_at', 'desc').executeTakeFirstOrThrow();
    expect(trail).toMatchObject({ actor_user_id: adminId, after: { recorded: true, source: 'browser' } });
    expect((await admin.get(url())).status).toBe(200);
    // Sam hears what the administrator recorded.
    expect((await sam.get(ME)).status).toBe(200);
    expect((await admin.request('DELETE', url())).status).toBe(200);
    expect(await rows()).toEqual([]);
  });

  it('refuses a user without the users permission: another user’s recording is not theirs to change', async () => {
    const adminsUrl = `/api/users/${adminId}/name-recording`;
    expect((await put(sam, adminsUrl, NAME)).status).toBe(403);
    expect((await sam.request('DELETE', adminsUrl)).status).toBe(403);
    expect(await rows()).toEqual([]);
  });

  it('does not find another account’s user, and changes nothing there', async () => {
    expect((await put(beta, ME, NAME)).status).toBe(200);
    const betaRows = () => db.selectFrom('user_name_recordings').select(['file', 'duration_ms']).where('user_id', '=', betaUserId).execute();
    const before = await betaRows();
    expect(before).toHaveLength(1);
    expect((await put(admin, `/api/users/${betaUserId}/name-recording`, NAME)).status).toBe(404);
    expect((await admin.get(`/api/users/${betaUserId}/name-recording`)).status).toBe(404);
    expect((await admin.request('DELETE', `/api/users/${betaUserId}/name-recording`)).status).toBe(404);
    expect((await put(beta, `/api/users/${samId}/name-recording`, NAME)).status).toBe(404);
    expect(await betaRows()).toEqual(before);
    expect(fs.existsSync(path.join(product.dataDir, before[0]!.file))).toBe(true);
    expect(await rows()).toEqual([]);
  });
});

describe('deleting the user', () => {
  it('removes their recorded name from the disk and the database', async () => {
    expect((await put(admin, `/api/users/${samId}/name-recording`, NAME)).status).toBe(200);
    const [row] = await rows();
    expect(fs.existsSync(path.join(product.dataDir, row!.file))).toBe(true);
    const res = await admin.json('POST', '/api/users/bulk', { action: 'delete', userIds: [samId] });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { results: { result: string }[] }).results).toEqual([{ userId: samId, result: 'changed' }]);
    expect(fs.existsSync(path.join(product.dataDir, row!.file))).toBe(false);
    expect(await rows()).toEqual([]);
  });
});
