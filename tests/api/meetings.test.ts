import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type Db } from '@carillon/db';
import { MEETING_PASSCODE_ATTEMPTS } from '@carillon/domain';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createStandardUsers } from '../support/softphone-users.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';
import { redisUrl } from '../support/env.ts';
import { liveSocket } from '../support/live-socket.ts';

/**
 * Meetings' API (issue 17, unreleased area 'meetings'): each user's personal meeting and created
 * meetings (bad bodies refused, changing nothing; the personal meeting cannot be deleted; another
 * user's meeting is not found), the join with its passcode checked on the server and bounded, and
 * the join token that only its own user can present on the socket.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let sam: HttpClient;
let tom: HttpClient;
const PASSWORD = 'Meadow5Lantern';

interface Meeting {
  id: string;
  number: string;
  kind: string;
  topic: string;
  passcode: string;
}

const signedIn = async (email: string) => {
  const c = new HttpClient(product.url);
  expect((await c.form('/login', { identifier: email, password: PASSWORD })).status).toBe(303);
  return c;
};
const list = async (c: HttpClient) => ((await (await c.get('/api/me/meetings')).json()) as { meetings: Meeting[] }).meetings;

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'meetingsapi');
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), REDIS_URL: redisUrl(), ENABLE_UNRELEASED: 'meetings' });
  db = openPostgres(product.databaseUrl(), 2);
  const admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  await createStandardUsers(db, [
    { extension: '201', name: 'sam', password: PASSWORD },
    { extension: '202', name: 'tom', password: PASSWORD },
  ]);
  sam = await signedIn('sam@demo.carillon.localhost');
  tom = await signedIn('tom@demo.carillon.localhost');
}, 180_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

describe('my meetings', () => {
  it('creates, lists, reads and deletes, refusing bad input without changing anything', async () => {
    const [personal] = await list(sam);
    expect(personal).toMatchObject({ kind: 'personal' });
    expect(personal!.number).toMatch(/^[1-9][0-9]{9}$/);
    for (const bad of [{}, { topic: '' }, { topic: 'x', passcode: '12' }, { topic: 'x', passcode: 'has space1' }, { topic: 'x', scheduledStart: 'tomorrow' }, { topic: 'x', extra: 1 }]) {
      const res = await sam.json('POST', '/api/me/meetings', bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_body');
    }
    expect(await list(sam)).toEqual([personal]);
    const made = await sam.json('POST', '/api/me/meetings', { topic: 'Planning', scheduledStart: '2027-03-01T09:30:00Z', passcode: 'Plan2027' });
    expect(made.status).toBe(201);
    const meeting = ((await made.json()) as { meeting: Meeting }).meeting;
    expect(meeting).toMatchObject({ kind: 'scheduled', topic: 'Planning', passcode: 'Plan2027' });
    expect((await list(sam)).map((m) => m.id)).toEqual([personal!.id, meeting.id]);
    expect(((await (await sam.get(`/api/me/meetings/${meeting.number}`)).json()) as { meeting: Meeting }).meeting).toEqual(meeting);
    // Another user of the account neither reads nor deletes it; a name that is no ID is not found.
    expect((await tom.get(`/api/me/meetings/${meeting.id}`)).status).toBe(404);
    expect((await tom.json('DELETE', `/api/me/meetings/${meeting.id}`)).status).toBe(404);
    expect((await sam.get('/api/me/meetings/not-an-id')).status).toBe(404);
    expect((await sam.json('DELETE', `/api/me/meetings/${personal!.id}`)).status).toBe(409);
    expect((await sam.json('DELETE', `/api/me/meetings/${meeting.id}`)).status).toBe(204);
    expect((await list(sam)).map((m) => m.id)).toEqual([personal!.id]);
  });
});

describe('joining', () => {
  it('checks the passcode on the server, bounds the attempts, and gives a token only its user can use', async () => {
    const meeting = ((await (await sam.json('POST', '/api/me/meetings', { topic: 'Retro', passcode: 'Retro77' })).json()) as { meeting: Meeting }).meeting;
    // The host joins without the passcode.
    const host = await sam.json('POST', `/api/meetings/${meeting.number}/join`, { passcode: '' });
    expect(host.status).toBe(200);
    expect(await host.json()).toMatchObject({ host: true, meeting: { id: meeting.id, number: meeting.number, topic: 'Retro' } });
    expect((await tom.json('POST', `/api/meetings/${meeting.number}/join`, { nope: 1 })).status).toBe(400);
    expect((await tom.json('POST', '/api/meetings/1234567890/join', { passcode: 'Retro77' })).status).toBe(404);
    const wrong = await tom.json('POST', `/api/meetings/${meeting.number}/join`, { passcode: 'retro77' });
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toEqual({ error: 'wrong_passcode' });
    const right = await tom.json('POST', `/api/meetings/${meeting.number}/join`, { passcode: 'Retro77' });
    expect(right.status).toBe(200);
    const { joinToken } = (await right.json()) as { joinToken: string };
    expect(joinToken).toMatch(/^[A-Za-z0-9_-]{32}$/);

    // Sam cannot present Tom's token; a made-up one is refused alike.
    const samSocket = (await liveSocket(product.url, sam, 'meeting')).socket;
    try {
      expect(await samSocket.emitWithAck('meeting:join', { joinToken })).toEqual({ error: 'forbidden' });
      expect(await samSocket.emitWithAck('meeting:join', { joinToken: 'A'.repeat(32) })).toEqual({ error: 'forbidden' });
      expect(await samSocket.emitWithAck('meeting:signal', { type: 'create-transport', direction: 'send' })).toEqual({ error: 'not_joined' });
    } finally {
      samSocket.close();
    }

    // After the bound, even the right passcode is refused for a while.
    for (let i = 2; i < MEETING_PASSCODE_ATTEMPTS; i++) expect((await tom.json('POST', `/api/meetings/${meeting.number}/join`, { passcode: 'guess00' })).status).toBe(403);
    const limited = await tom.json('POST', `/api/meetings/${meeting.number}/join`, { passcode: 'Retro77' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('600');
  });
});
