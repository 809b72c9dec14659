import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type Db } from '@carillon/db';
import { isAccessCode } from '@carillon/domain';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createStandardUsers } from '../support/softphone-users.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';
import { redisUrl } from '../support/env.ts';
import { startSmtpReceiver } from '../../workers/test/support.ts';
import { parseMail } from '../../workers/src/fax/mime-message.ts';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { Redis } from 'ioredis';
import { CONFERENCE_EVENTS_CHANNEL, type ConferenceLiveEvent } from '@carillon/contracts/conference-control';

/**
 * The conference bridge's API for its users (issue 16, unreleased area 'conference'): each user
 * reads their own dial-in numbers, access codes and settings, regenerates their own codes
 * (audited without them), saves their settings, and e-mails invites with a calendar invitation
 * (received by a real SMTP server); a bad body is a 400 that changes and sends nothing; a caller
 * not signed in is refused. The 404s while the area is hidden: tests/api/answering-rules.test.ts.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let sam: HttpClient;
let tom: HttpClient;
let vic: HttpClient;
let admin: HttpClient;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
const PASSWORD = 'Meadow5Lantern';

interface Mine {
  dialIns: string[];
  codes: { host: string; participant: string };
  settings: { joinBeforeHost: boolean; enterTone: boolean; exitTone: boolean; announceNames: boolean };
}

const signedIn = async (email: string) => {
  const c = new HttpClient(product.url);
  expect((await c.form('/login', { identifier: email, password: PASSWORD })).status).toBe(303);
  return c;
};
const mine = async (c: HttpClient) => {
  const res = await c.get('/api/me/conference');
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Mine;
};

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'conference');
  smtp = await startSmtpReceiver();
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), REDIS_URL: redisUrl(), ENABLE_UNRELEASED: 'conference', SMTP_URL: smtp.url });
  db = openPostgres(product.databaseUrl(), 2);
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  await createStandardUsers(db, [
    { extension: '201', name: 'sam', password: PASSWORD },
    { extension: '202', name: 'tom', password: PASSWORD },
    { extension: '203', name: 'vic', password: PASSWORD },
  ]);
  const account = await db.selectFrom('accounts').select('id').executeTakeFirstOrThrow();
  const number = await db.insertInto('phone_numbers').values({ account_id: account.id, e164: '+14155550188', type: 'additional_company', extension_id: null, site_id: null, nickname: null }).returning('id').executeTakeFirstOrThrow();
  await db.insertInto('conference_dial_ins').values({ phone_number_id: number.id, account_id: account.id }).execute();
  sam = await signedIn('sam@demo.carillon.localhost');
  tom = await signedIn('tom@demo.carillon.localhost');
  vic = await signedIn('vic@demo.carillon.localhost');
}, 180_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await smtp?.stop();
  await scratch?.drop();
});

describe('my conference', () => {
  it('shows each user the bridge number, their own two codes and the default settings', async () => {
    const s = await mine(sam);
    const t = await mine(tom);
    expect(s.dialIns).toEqual(['+14155550188']);
    expect(s.settings).toEqual({ joinBeforeHost: false, enterTone: true, exitTone: true, announceNames: false });
    for (const code of [s.codes.host, s.codes.participant, t.codes.host, t.codes.participant]) expect(isAccessCode(code)).toBe(true);
    expect(new Set([s.codes.host, s.codes.participant, t.codes.host, t.codes.participant]).size).toBe(4);
    // Stable between reads.
    expect((await mine(sam)).codes).toEqual(s.codes);
  });

  it('regenerates the codes asked for, audits it without the codes, and refuses a bad body', async () => {
    const before = await mine(sam);
    const res = await sam.json('POST', '/api/me/conference/codes', { which: 'participant' });
    expect(res.status).toBe(200);
    const after = ((await res.json()) as { codes: Mine['codes'] }).codes;
    expect(after.host).toBe(before.codes.host);
    expect(after.participant).not.toBe(before.codes.participant);
    expect((await mine(sam)).codes).toEqual(after);
    // Tom's codes are untouched.
    const tomCodes = (await mine(tom)).codes;
    expect((await sam.json('POST', '/api/me/conference/codes', {})).status).toBe(200);
    expect((await mine(tom)).codes).toEqual(tomCodes);
    const audit = await db.selectFrom('audit_events').select(['action', 'after']).where('action', '=', 'conference.codes_regenerated').execute();
    expect(audit).toHaveLength(2);
    expect(JSON.stringify(audit)).not.toContain(after.participant);
    for (const bad of [{ which: 'everyone' }, { which: 'host', extra: 1 }, []]) {
      const r = await sam.json('POST', '/api/me/conference/codes', bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
    }
  });

  it('saves the settings, audits them, and refuses a bad body without changing them', async () => {
    const wanted = { joinBeforeHost: true, enterTone: false, exitTone: true, announceNames: true };
    const res = await sam.json('PUT', '/api/me/conference', wanted);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { settings: Mine['settings'] }).settings).toEqual(wanted);
    expect((await mine(sam)).settings).toEqual(wanted);
    expect((await mine(tom)).settings).toEqual({ joinBeforeHost: false, enterTone: true, exitTone: true, announceNames: false });
    const audit = await db.selectFrom('audit_events').select(['after']).where('action', '=', 'conference.settings_saved').execute();
    expect(audit.map((a) => a.after)).toEqual([wanted]);
    for (const bad of [{ ...wanted, joinBeforeHost: 'yes' }, { ...wanted, extra: true }, { joinBeforeHost: true }]) {
      const r = await sam.json('PUT', '/api/me/conference', bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
    }
    expect((await mine(sam)).settings).toEqual(wanted);
  });

  it('e-mails an invite to each recipient: the participant code, the dial-in number and one calendar event (RFC 5546 REQUEST)', async () => {
    const { codes } = await mine(sam);
    const start = new Date(Date.now() + 86_400_000);
    start.setUTCSeconds(0, 0);
    const to = ['ann@guest.test', 'Bob@Guest.test'];
    const res = await sam.json('POST', '/api/me/conference/invite', { to, topic: 'Budget, Q3; review', start: start.toISOString(), durationMinutes: 45, note: 'Bring the figures.' });
    expect(res.status, await res.clone().text()).toBe(202);
    expect(await res.json()).toEqual({ sent: 2 });
    await expect.poll(() => smtp.received.filter((m) => m.raw.includes('Budget')).length, { timeout: 30_000 }).toBe(2);
    const mails = smtp.received.filter((m) => m.raw.includes('Budget'));
    expect(mails.map((m) => m.to).sort()).toEqual([['ann@guest.test'], ['bob@guest.test']]);
    const uids = new Set<string>();
    for (const m of mails) {
      const mail = parseMail(Buffer.from(m.raw));
      expect(mail.subject).toBe('Invitation: Budget, Q3; review');
      expect(mail.text).toContain('+14155550188');
      expect(mail.text).toContain(`${codes.participant} #`);
      expect(mail.text).toContain('Bring the figures.');
      expect(m.raw).not.toContain(codes.host);
      const calendars = mail.attachments.filter((a) => a.mediaType === 'text/calendar' || a.name.endsWith('.ics'));
      expect(calendars.length).toBeGreaterThan(0);
      // RFC 5545 §3.1: unfold, then read the properties.
      const ics = calendars[0]!.data.toString('utf8').replace(/\r\n[ \t]/g, '');
      expect(ics).toMatch(/^BEGIN:VCALENDAR\r\n/);
      expect(ics).toContain('\r\nMETHOD:REQUEST\r\n');
      const stamp = start.toISOString().replace(/[-:]/g, '').replace('.000', '');
      expect(ics).toContain(`\r\nDTSTART:${stamp}\r\n`);
      expect(ics).toContain(`\r\nDTEND:${new Date(start.getTime() + 45 * 60_000).toISOString().replace(/[-:]/g, '').replace('.000', '')}\r\n`);
      expect(ics).toContain('\r\nSUMMARY:Budget\\, Q3\\; review\r\n');
      expect(ics).toContain('mailto:ann@guest.test');
      expect(ics).toContain('mailto:bob@guest.test');
      uids.add(/\r\nUID:([^\r]+)\r\n/.exec(ics)![1]!);
    }
    // One meeting: the same event in every calendar.
    expect(uids.size).toBe(1);
  });

  it('refuses a bad invite with a clear error and sends nothing', async () => {
    const start = new Date(Date.now() + 3_600_000).toISOString();
    const valid = { to: ['x@guest.test'], topic: 'T', start, durationMinutes: 30 };
    const cases: [unknown, string][] = [
      [{ ...valid, to: Array.from({ length: 51 }, (_, i) => `p${i}@guest.test`) }, 'to'],
      [{ ...valid, to: ['not an address'] }, 'to.0'],
      [{ ...valid, to: ['a@guest.test', 'A@guest.test'] }, 'to'],
      [{ ...valid, to: [] }, 'to'],
      [{ ...valid, start: 'tomorrow' }, 'start'],
      [{ ...valid, durationMinutes: 5 }, 'durationMinutes'],
      [{ ...valid, dialIns: ['+1 415'] }, 'dialIns.0'],
      [{ ...valid, host: 'me' }, 'host'],
    ];
    const before = smtp.received.length;
    for (const [body, field] of cases) {
      const r = await sam.json('POST', '/api/me/conference/invite', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(Object.keys(((await r.json()) as { fields: Record<string, string> }).fields), JSON.stringify(body)).toContain(field);
    }
    const past = await sam.json('POST', '/api/me/conference/invite', { ...valid, start: new Date(Date.now() - 3_600_000).toISOString() });
    expect([past.status, await past.json()]).toEqual([400, { error: 'in_the_past' }]);
    const other = await sam.json('POST', '/api/me/conference/invite', { ...valid, dialIns: ['+14155550199'] });
    expect([other.status, await other.json()]).toEqual([400, { error: 'unknown_dial_in', detail: '+14155550199' }]);
    // Nothing was queued: a valid invite after them is the only message that arrives.
    expect((await sam.json('POST', '/api/me/conference/invite', { ...valid, topic: 'After the refusals' })).status).toBe(202);
    await expect.poll(() => smtp.received.length, { timeout: 30_000 }).toBe(before + 1);
    expect(smtp.received.at(-1)!.raw).toContain('After the refusals');
  });

  it('limits a user to 20 invites an hour (each can reach 50 people)', async () => {
    const valid = { to: ['y@guest.test'], topic: 'Limit', start: new Date(Date.now() + 3_600_000).toISOString(), durationMinutes: 30 };
    for (let i = 0; i < 20; i++) expect((await tom.json('POST', '/api/me/conference/invite', valid)).status).toBe(202);
    const refused = await tom.json('POST', '/api/me/conference/invite', valid);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('3600');
    // Sam's own limit is his.
    expect((await sam.json('POST', '/api/me/conference/invite', { ...valid, topic: 'Sam still can' })).status).toBe(202);
  });

  it('refuses a caller who is not signed in', async () => {
    expect((await fetch(`${product.url}/api/me/conference`)).status).toBe(401);
    expect((await fetch(`${product.url}/api/me/conference/codes`, { method: 'POST', headers: { 'content-type': 'application/json', origin: product.url }, body: '{}' })).status).toBe(401);
  });
});

describe('the host console\'s live events (conference:watch)', () => {
  const connect = (client: HttpClient): Promise<Socket> => {
    const socket = connectSocket(product.url, { path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { cookie: `carillon_session=${client.cookie('carillon_session')}` } });
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', (e) => reject(e));
    });
  };
  const hostOf = async (name: string) => {
    const row = await db.selectFrom('users').select(['id', 'extension_id', 'account_id', 'role_id']).where('email', '=', `${name}@demo.carillon.localhost`).executeTakeFirstOrThrow();
    return { userId: row.id, accountId: row.account_id, hostExtensionId: row.extension_id!, roleId: row.role_id };
  };

  it('stops pushing a conference to a host whose right to calls is taken away, while the socket stays open', { timeout: 60_000 }, async () => {
    // Their codes exist once read: a user with codes hosts a conference.
    await mine(vic);
    await mine(tom);
    const v = await hostOf('vic');
    const t = await hostOf('tom');
    const redis = new Redis(redisUrl());
    const vicSocket = await connect(vic);
    const tomSocket = await connect(tom);
    try {
      const toVic: ConferenceLiveEvent[] = [];
      const toTom: ConferenceLiveEvent[] = [];
      vicSocket.on('conference', (e: ConferenceLiveEvent) => toVic.push(e));
      tomSocket.on('conference', (e: ConferenceLiveEvent) => toTom.push(e));
      const watch = (socket: Socket, hostExtensionId: string) => socket.timeout(20_000).emitWithAck('conference:watch', { hostExtensionId }) as Promise<Record<string, unknown>>;
      expect(await watch(vicSocket, v.hostExtensionId)).toMatchObject({ ok: true, live: false });
      expect(await watch(tomSocket, t.hostExtensionId)).toMatchObject({ ok: true, live: false });
      // What media-server publishes of a conference (the contract's channel): Vic's, then Tom's.
      // One subscriber relays them in order, so once Tom has his, Vic's was written to Vic's socket
      // before anything Vic asks next is answered.
      let round = 0;
      const vicStillHears = async () => {
        round += 1;
        const had = toVic.length;
        await redis.publish(CONFERENCE_EVENTS_CHANNEL, JSON.stringify({ type: 'locked', locked: round % 2 === 0, accountId: v.accountId, hostExtensionId: v.hostExtensionId }));
        await redis.publish(CONFERENCE_EVENTS_CHANNEL, JSON.stringify({ type: 'locked', locked: round % 2 === 0, accountId: t.accountId, hostExtensionId: t.hostExtensionId }));
        await expect.poll(() => toTom.length, { timeout: 10_000 }).toBe(round);
        await vicSocket.timeout(20_000).emitWithAck('session:ping');
        return toVic.length > had;
      };
      expect(await vicStillHears()).toBe(true);
      // The admin gives Vic a role like his own but without calls ('self.calls').
      const roles = ((await (await admin.get('/api/roles')).json()) as { items: { id: string; permissions: string[] }[] }).items;
      const current = roles.find((r) => r.id === v.roleId)!;
      const created = await admin.json('POST', '/api/roles', { baseRoleId: current.id, name: 'No calls', permissions: current.permissions.filter((p) => p !== 'self.calls') });
      expect(created.status, await created.clone().text()).toBe(201);
      const noCalls = (await created.json()) as { id: string };
      expect((await admin.json('PATCH', `/api/users/${v.userId}`, { roleId: noCalls.id })).status).toBe(200);
      // The change is announced; from then on Vic's console gets nothing more, though his socket is open.
      await expect.poll(vicStillHears, { timeout: 30_000 }).toBe(false);
      expect(vicSocket.connected).toBe(true);
      expect(await watch(vicSocket, v.hostExtensionId)).toEqual({ error: 'forbidden' });
      // Tom, whose rights did not change, still hears his.
      expect(toTom.length).toBe(round);
    } finally {
      vicSocket.close();
      tomSocket.close();
      await redis.quit();
    }
  });
});
