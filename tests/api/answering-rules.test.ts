import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { openPostgres, type Db } from '@carillon/db';
import { CONFIG_CHANGES_CHANNEL, parseConfigChange, type ConfigChange } from '@carillon/contracts/config-changes';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createStandardUsers } from '../support/softphone-users.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';
import { redisClient, redisUrl } from '../support/env.ts';

/**
 * Answering rules through the product (issue 13, deliverable 1): a user saves
 * their own hours, rules and call settings; an administrator with users.manage
 * saves any user's; bad input is refused with the field named and nothing
 * changes; another account's user is not found; a user without the right is
 * refused; every change is audited and announced to media-server. The area is
 * unreleased: the product answers 404 unless ENABLE_UNRELEASED names it.
 */
let product: RunningProduct;
let hidden: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let hiddenScratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let admin: HttpClient;
let sam: HttpClient;
let tom: HttpClient;
let beta: HttpClient;
let accountId = '';
let samId = '';
let samExtensionId = '';
let tomId = '';
let tomExtensionId = '';
let betaUserId = '';
let samContactId = '';
let tomContactId = '';
const samDevices: string[] = [];
let subscriber: Redis;
const changes: ConfigChange[] = [];
const PASSWORD = 'Meadow5Lantern';

interface View {
  userId: string;
  timeZone: string;
  devices: { id: string; name: string }[];
  answering: {
    hours: unknown;
    inHours: { ringPlan: { mode: string; rows: { target: { kind: string; deviceId?: string; number?: string }; order: number; active: boolean; ringForSeconds: number }[] }; afterRinging: unknown };
    afterHours: { afterRinging: unknown };
    custom: { id?: string; name: string; conditions: unknown[] }[];
    settings: { blocking: { anonymous: boolean; numbers: string[] }; screening: string; confirmForwardedCalls: boolean };
  };
}

const signedIn = async (email: string) => {
  const c = new HttpClient(product.url);
  expect((await c.form('/login', { identifier: email, password: PASSWORD })).status).toBe(303);
  return c;
};
const audits = (targetId: string) =>
  db.selectFrom('audit_events').select(['actor_user_id', 'before', 'after']).where('action', '=', 'user.answering_rules_changed').where('target_id', '=', targetId).orderBy('occurred_at').execute();
const rulesRows = (userId: string) => db.selectFrom('answering_rules').select(['id', 'kind', 'position', 'name']).where('user_id', '=', userId).orderBy('kind').orderBy('position').execute();

/** A whole document as the page sends it. */
function doc(over: Record<string, unknown> = {}) {
  const handling = (rows: unknown[]) => ({ ringPlan: { mode: 'in_order', rows }, afterRinging: { type: 'voicemail' }, greeting: { source: 'default' }, audioWhileConnecting: { kind: 'ring_tone' } });
  return {
    hours: { mode: 'custom', days: { mon: [{ from: '09:00', to: '12:00' }, { from: '13:00', to: '17:30' }], fri: [{ from: '09:00', to: '15:00' }] } },
    inHours: handling([
      { target: { kind: 'device', deviceId: samDevices[0] }, order: 1, active: true, ringForSeconds: 15 },
      { target: { kind: 'device', deviceId: samDevices[1] }, order: 1, active: true, ringForSeconds: 15 },
      { target: { kind: 'forwarding', label: 'mobile', number: '+33612345678' }, order: 2, active: true, ringForSeconds: 20 },
    ]),
    afterHours: { ...handling([]), afterRinging: { type: 'extension', extensionId: tomExtensionId } },
    custom: [
      { ...handling([{ target: { kind: 'forwarding', label: 'work', number: '+14155550999' }, order: 1, active: true, ringForSeconds: 30 }]), name: 'Boss', enabled: true, conditions: [{ type: 'caller_id', numbers: ['+14155550123'], contactIds: [samContactId] }] },
      { ...handling([]), name: 'Holidays', enabled: true, conditions: [{ type: 'date_range', ranges: [{ from: '2026-12-24T00:00', to: '2027-01-02T00:00' }] }] },
    ],
    settings: {
      userGreeting: { enabled: false, audio: { source: 'default' } },
      screening: 'anonymous_only',
      connectingMessage: { enabled: true, audio: { source: 'default' } },
      holdMusic: { enabled: true, audio: { kind: 'music', track: 'classical' } },
      blocking: { anonymous: true, numbers: ['+14155550666'] },
    },
    ...over,
  };
}

/** Waits for the announcement of this account's answering rules (no sleep: the message arrives or the test times out). */
async function announced(since: number): Promise<ConfigChange> {
  for (;;) {
    const found = changes.slice(since).find((c) => c.accountId === accountId && c.subjects.includes('answering_rules'));
    if (found) return found;
    await new Promise<void>((resolve) => subscriber.once('message', () => resolve()));
  }
}

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'answering');
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), REDIS_URL: redisUrl(), ENABLE_UNRELEASED: 'answering_rules' });
  db = openPostgres(product.databaseUrl(), 2);
  subscriber = redisClient();
  subscriber.on('message', (_channel: string, message: string) => {
    const change = parseConfigChange(message);
    if (change) changes.push(change);
  });
  await subscriber.subscribe(CONFIG_CHANGES_CHANNEL);
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  // Quick setup done: the portal's pages are reachable.
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  await createStandardUsers(db, [
    { extension: '201', name: 'sam', password: PASSWORD },
    { extension: '202', name: 'tom', password: PASSWORD },
  ]);
  const users = await db.selectFrom('users').select(['id', 'email', 'extension_id', 'account_id']).execute();
  const samU = users.find((u) => u.email.startsWith('sam@'))!;
  const tomU = users.find((u) => u.email.startsWith('tom@'))!;
  accountId = samU.account_id;
  samId = samU.id;
  samExtensionId = samU.extension_id!;
  tomId = tomU.id;
  tomExtensionId = tomU.extension_id!;
  for (const [i, type] of (['softphone', 'desk_phone'] as const).entries()) {
    samDevices.push((await db.insertInto('devices').values({ account_id: accountId, extension_id: samExtensionId, type, name: `Sam ${type}`, sip_username: `sam-ar-${i}-${Date.now()}` }).returning('id').executeTakeFirstOrThrow()).id);
  }
  samContactId = (await db.insertInto('contacts').values({ account_id: accountId, owner_user_id: samId, first_name: 'Boss', phone: '+14155550124' }).returning('id').executeTakeFirstOrThrow()).id;
  tomContactId = (await db.insertInto('contacts').values({ account_id: accountId, owner_user_id: tomId, first_name: 'Private', phone: '+14155550125' }).returning('id').executeTakeFirstOrThrow()).id;
  sam = await signedIn('sam@demo.carillon.localhost');
  tom = await signedIn('tom@demo.carillon.localhost');
  const created = await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example']);
  beta = new HttpClient(product.url);
  expect((await activate(beta, created.link)).status).toBe(303);
  betaUserId = ((await (await beta.get('/api/me')).json()) as { id: string }).id;
}, 180_000);

afterAll(async () => {
  await subscriber?.quit();
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  if (hidden) expect(await hidden.stop()).toBe(0);
  await scratch?.drop();
  await hiddenScratch?.drop();
});

describe('a user’s own answering rules (My Extension)', () => {
  it('starts from ringing every phone, then voicemail, in the user’s time zone', async () => {
    const res = await sam.get('/api/me/answering-rules');
    expect(res.status).toBe(200);
    const view = (await res.json()) as View;
    expect(view.userId).toBe(samId);
    expect(view.devices.map((d) => d.id).sort()).toEqual([...samDevices].sort());
    expect(view.answering.hours).toEqual({ mode: '24h' });
    expect(view.answering.inHours.ringPlan.rows.map((r) => r.target.deviceId).sort()).toEqual([...samDevices].sort());
    expect(view.answering.inHours.afterRinging).toEqual({ type: 'voicemail' });
    expect(view.answering.custom).toEqual([]);
    expect(await rulesRows(samId)).toEqual([]);
  });

  it('saves the whole document, audits it and announces it to media-server', async () => {
    const since = changes.length;
    const res = await sam.json('PUT', '/api/me/answering-rules', doc());
    expect(res.status, await res.clone().text()).toBe(200);
    const view = (await res.json()) as View;
    expect(view.answering.hours).toEqual({
      mode: 'custom',
      days: { mon: [{ from: '09:00', to: '12:00' }, { from: '13:00', to: '17:30' }], tue: [], wed: [], thu: [], fri: [{ from: '09:00', to: '15:00' }], sat: [], sun: [] },
    });
    expect(view.answering.inHours.ringPlan.rows).toHaveLength(3);
    expect(view.answering.afterHours.afterRinging).toEqual({ type: 'extension', extensionId: tomExtensionId });
    expect(view.answering.custom.map((r) => r.name)).toEqual(['Boss', 'Holidays']);
    expect(view.answering.settings.blocking).toEqual({ anonymous: true, numbers: ['+14155550666'] });
    // Forwarding numbers in order after the phones, and "press 1 to accept" off until chosen.
    expect(view.answering.inHours.ringPlan.rows[2]).toEqual({ target: { kind: 'forwarding', label: 'mobile', number: '+33612345678' }, order: 2, active: true, ringForSeconds: 20 });
    expect(view.answering.settings.confirmForwardedCalls).toBe(false);
    // The same document read back, and stored as rows: the hours in users, one row per rule, in order.
    expect(((await (await sam.get('/api/me/answering-rules')).json()) as View).answering).toEqual(view.answering);
    expect((await db.selectFrom('users').select('user_hours').where('id', '=', samId).executeTakeFirstOrThrow()).user_hours).toEqual(view.answering.hours);
    expect((await rulesRows(samId)).map((r) => [r.kind, r.position, r.name])).toEqual([
      ['after_hours', 0, null],
      ['custom', 1, 'Boss'],
      ['custom', 2, 'Holidays'],
      ['in_hours', 0, null],
    ]);
    const trail = await audits(samId);
    expect(trail).toHaveLength(1);
    expect(trail[0]!.actor_user_id).toBe(samId);
    expect((trail[0]!.after as { custom: { name: string }[] }).custom.map((r) => r.name)).toEqual(['Boss', 'Holidays']);
    expect(await announced(since)).toEqual({ accountId, subjects: ['answering_rules'] });
  });

  it('keeps rule ids when reordering, deletes the rules left out, and adds new ones', async () => {
    const before = ((await (await sam.get('/api/me/answering-rules')).json()) as View).answering.custom;
    const [boss, holidays] = before;
    const res = await sam.json('PUT', '/api/me/answering-rules', doc({ custom: [{ ...(doc().custom[1] as object), id: holidays!.id }, { ...(doc().custom[0] as object), name: 'New VIP' }] }));
    expect(res.status, await res.clone().text()).toBe(200);
    const after = ((await res.json()) as View).answering.custom;
    expect(after.map((r) => r.name)).toEqual(['Holidays', 'New VIP']);
    expect(after[0]!.id).toBe(holidays!.id);
    expect(after[1]!.id).not.toBe(boss!.id);
    expect((await rulesRows(samId)).map((r) => r.id)).not.toContain(boss!.id);
  });

  it('refuses bad input with the field named, and changes nothing', async () => {
    const saved = ((await (await sam.get('/api/me/answering-rules')).json()) as View).answering;
    const trail = (await audits(samId)).length;
    const eleven = Array.from({ length: 11 }, (_, i) => ({ target: { kind: 'forwarding', label: 'other', number: `+3361234560${i.toString().padStart(2, '0')}` }, order: 1, active: true, ringForSeconds: 5 }));
    const base = doc();
    const cases: [unknown, string, RegExp][] = [
      [doc({ hours: { mode: 'custom', days: {} } }), 'hours.days', /at least one day needs hours/],
      [doc({ custom: [{ ...(base.custom[0] as object), conditions: [{ type: 'schedule', schedule: { mode: 'custom', days: {} } }] }] }), 'custom.0.conditions.0.schedule.days', /at least one day needs hours/],
      [doc({ custom: [{ ...(base.custom[0] as object), conditions: [] }] }), 'custom.0.conditions', /at least one condition/],
      [doc({ inHours: { ...base.inHours, ringPlan: { mode: 'in_order', rows: eleven } } }), 'inHours.ringPlan.rows', /at most 10 forwarding numbers/],
      [doc({ inHours: { ...base.inHours, ringPlan: { mode: 'in_order', rows: [{ ...(base.inHours.ringPlan.rows[0] as object), ringForSeconds: 90 }] } } }), 'inHours.ringPlan.rows.0.ringForSeconds', /60|less than/],
      [doc({ inHours: { ...base.inHours, ringPlan: { mode: 'in_order', rows: [{ target: { kind: 'forwarding', label: 'mobile', number: '0612' }, order: 1, active: true, ringForSeconds: 5 }] } } }), 'inHours.ringPlan.rows.0.target.number', /E.164/],
      [doc({ settings: { ...base.settings, screening: 'sometimes' } }), 'settings.screening', /.+/],
      [doc({ settings: { ...base.settings, confirmForwardedCalls: 'yes' } }), 'settings.confirmForwardedCalls', /.+/],
      // Call blocking: E.164 numbers, each once, at most 100.
      [doc({ settings: { ...base.settings, blocking: { anonymous: false, numbers: ['4155550666'] } } }), 'settings.blocking.numbers.0', /E.164/],
      [doc({ settings: { ...base.settings, blocking: { anonymous: false, numbers: ['+14155550666', '+14155550666'] } } }), 'settings.blocking.numbers.1', /already blocked/],
      [doc({ settings: { ...base.settings, blocking: { anonymous: false, numbers: Array.from({ length: 101 }, (_, i) => `+1415555${String(i).padStart(4, '0')}`) } } }), 'settings.blocking.numbers', /at most 100/],
      [doc({ settings: { ...base.settings, blocking: { anonymous: 'yes', numbers: [] } } }), 'settings.blocking.anonymous', /.+/],
      [doc({ settings: { ...base.settings, connectingMessage: { enabled: 1, audio: { source: 'default' } } } }), 'settings.connectingMessage.enabled', /.+/],
      [doc({ inHours: { ...base.inHours, audioWhileConnecting: { kind: 'music', track: 'polka' } } }), 'inHours.audioWhileConnecting.track', /.+/],
      [doc({ inHours: { ...base.inHours, ringPlan: { mode: 'in_order', rows: [{ target: { kind: 'forwarding', label: 'pager', number: '+33612345678' }, order: 1, active: true, ringForSeconds: 5 }] } } }), 'inHours.ringPlan.rows.0.target.label', /.+/],
      [doc({ inHours: { ...base.inHours, ringPlan: { mode: 'in_order', rows: [{ ...(base.inHours.ringPlan.rows[2] as object), ringForSeconds: 7 }] } } }), 'inHours.ringPlan.rows.0.ringForSeconds', /whole rings/],
      [{ ...doc(), extra: true }, 'extra', /.+/],
    ];
    for (const [body, field, message] of cases) {
      const res = await sam.json('PUT', '/api/me/answering-rules', body);
      expect(res.status, field).toBe(400);
      const answer = (await res.json()) as { error: string; fields: Record<string, string> };
      expect(answer.error).toBe('invalid_body');
      expect(answer.fields[field], `${field}: ${JSON.stringify(answer.fields)}`).toMatch(message);
    }
    // What only the database can say: a phone, a contact, an extension or a rule that is not the user's.
    const tomsDevice = (await db.insertInto('devices').values({ account_id: accountId, extension_id: tomExtensionId, type: 'softphone', name: 'Tom', sip_username: `tom-ar-${Date.now()}` }).returning('id').executeTakeFirstOrThrow()).id;
    const foreign: [unknown, string][] = [
      [doc({ inHours: { ...base.inHours, ringPlan: { mode: 'in_order', rows: [{ target: { kind: 'device', deviceId: tomsDevice }, order: 1, active: true, ringForSeconds: 5 }] } } }), 'inHours.ringPlan.rows.0.target.deviceId'],
      [doc({ custom: [{ ...(base.custom[0] as object), conditions: [{ type: 'caller_id', contactIds: [tomContactId] }] }] }), 'custom.0.conditions.0.contactIds'],
      [doc({ afterHours: { ...base.afterHours, afterRinging: { type: 'extension', extensionId: samExtensionId } } }), 'afterHours.afterRinging.extensionId'],
      [doc({ afterHours: { ...base.afterHours, afterRinging: { type: 'extension', extensionId: '00000000-0000-4000-8000-000000000000' } } }), 'afterHours.afterRinging.extensionId'],
      [doc({ custom: [{ ...(base.custom[0] as object), id: '00000000-0000-4000-8000-000000000000' }] }), 'custom.0.id'],
    ];
    for (const [body, field] of foreign) {
      const res = await sam.json('PUT', '/api/me/answering-rules', body);
      expect(res.status, field).toBe(400);
      expect(((await res.json()) as { fields: Record<string, string> }).fields, field).toHaveProperty([field]);
    }
    const bad = await sam.request('PUT', '/api/me/answering-rules', '{not json');
    expect(bad.status).toBe(400);
    expect(((await (await sam.get('/api/me/answering-rules')).json()) as View).answering).toEqual(saved);
    expect(await audits(samId)).toHaveLength(trail);
  });
});

describe('screening, connecting message, audio while connecting and blocking', () => {
  it('saves call screening for outside callers, the connecting message, music while connecting and blocked numbers, and reads them back', async () => {
    const base = doc();
    const body = doc({
      inHours: { ...base.inHours, audioWhileConnecting: { kind: 'music', track: 'modern_jazz' } },
      settings: { ...base.settings, screening: 'outside', connectingMessage: { enabled: false, audio: { source: 'default' } }, blocking: { anonymous: false, numbers: ['+14155550666', '+33612340000'] } },
    });
    const res = await sam.json('PUT', '/api/me/answering-rules', body);
    expect(res.status, await res.clone().text()).toBe(200);
    const read = (await (await sam.get('/api/me/answering-rules')).json()) as View & { answering: { inHours: { audioWhileConnecting: unknown }; settings: { connectingMessage: { enabled: boolean } } } };
    expect(read.answering.settings).toMatchObject({ screening: 'outside', connectingMessage: { enabled: false }, blocking: { anonymous: false, numbers: ['+14155550666', '+33612340000'] } });
    expect(read.answering.inHours.audioWhileConnecting).toEqual({ kind: 'music', track: 'modern_jazz' });
  });

  it('refuses them for another account’s user (404) and changes nothing of theirs', async () => {
    const body = doc({ custom: [], settings: { ...doc().settings, screening: 'always', blocking: { anonymous: true, numbers: ['+14155550666'] } } });
    expect((await admin.json('PUT', `/api/users/${betaUserId}/answering-rules`, body)).status).toBe(404);
    expect(await db.selectFrom('user_call_settings').select('user_id').where('user_id', '=', betaUserId).execute()).toEqual([]);
  });
});

describe('the trunk’s caller ID on forwarded calls', () => {
  it('is kept by default, can be turned off by an administrator (audited), and is refused when not a boolean', async () => {
    const trunkBody = { name: 'Carrier', host: '192.0.2.10', port: 5060, transport: 'udp', username: '', numberFormat: 'e164', inboundAddresses: [] };
    const created = await admin.json('PUT', '/api/trunk', trunkBody);
    expect(created.status).toBe(200);
    expect(await created.json()).toMatchObject({ forwardCallerId: true });
    expect((await admin.json('PUT', '/api/trunk', { ...trunkBody, forwardCallerId: 'no' })).status).toBe(400);
    const off = await admin.json('PUT', '/api/trunk', { ...trunkBody, forwardCallerId: false });
    expect(await off.json()).toMatchObject({ forwardCallerId: false });
    // A save that does not name it keeps it.
    expect(await (await admin.json('PUT', '/api/trunk', { ...trunkBody, name: 'Carrier 2' })).json()).toMatchObject({ forwardCallerId: false });
    const trail = await db.selectFrom('audit_events').select(['action', 'after']).where('action', '=', 'trunk.updated').orderBy('occurred_at').execute();
    expect(trail.some((a) => (a.after as Record<string, unknown>).forward_caller_id === false)).toBe(true);
    // A user without phone_system.manage may not change it.
    expect((await sam.json('PUT', '/api/trunk', { ...trunkBody, forwardCallerId: true })).status).toBe(403);
    expect(await (await admin.get('/admin/phone-system/trunk')).text()).toContain('Forwarded calls show the original caller’s number');
  });
});

describe('another user’s answering rules (admin)', () => {
  it('lets an administrator with users.manage read and save any user’s, audited as the administrator', async () => {
    const adminId = ((await (await admin.get('/api/me')).json()) as { id: string }).id;
    expect((await admin.get(`/api/users/${tomId}/answering-rules`)).status).toBe(200);
    const mobile = { target: { kind: 'forwarding', label: 'mobile', number: '+33698765432' }, order: 1, active: true, ringForSeconds: 25 };
    const body = doc({
      inHours: { ...doc().inHours, ringPlan: { mode: 'simultaneous', rows: [mobile] } },
      custom: [],
      afterHours: { ...doc().afterHours, afterRinging: { type: 'voicemail' } },
      settings: { ...doc().settings, confirmForwardedCalls: true },
    });
    const res = await admin.json('PUT', `/api/users/${tomId}/answering-rules`, body);
    expect(res.status, await res.clone().text()).toBe(200);
    const saved = ((await res.json()) as View).answering;
    expect(saved.inHours.ringPlan.mode).toBe('simultaneous');
    // Tom's phone (added by the test above) rings with the first group; the mobile as saved.
    expect(saved.inHours.ringPlan.rows.filter((r) => r.target.kind === 'forwarding')).toEqual([mobile]);
    expect(saved.settings.confirmForwardedCalls).toBe(true);
    const trail = await audits(tomId);
    expect(trail.map((a) => a.actor_user_id)).toEqual([adminId]);
  });

  it('refuses a user without the permission (403) and keeps their rules unchanged', async () => {
    const before = ((await (await sam.get('/api/me/answering-rules')).json()) as View).answering;
    expect((await tom.get(`/api/users/${samId}/answering-rules`)).status).toBe(403);
    expect((await tom.json('PUT', `/api/users/${samId}/answering-rules`, doc({ custom: [] }))).status).toBe(403);
    expect(((await (await sam.get('/api/me/answering-rules')).json()) as View).answering).toEqual(before);
  });

  it('answers 404 for another account’s user, and changes nothing of theirs', async () => {
    expect((await admin.get(`/api/users/${betaUserId}/answering-rules`)).status).toBe(404);
    expect((await admin.json('PUT', `/api/users/${betaUserId}/answering-rules`, doc({ custom: [] }))).status).toBe(404);
    expect((await admin.get('/api/users/not-a-uuid/answering-rules')).status).toBe(404);
    expect(await rulesRows(betaUserId)).toEqual([]);
    expect(await audits(betaUserId)).toEqual([]);
  });
});

describe('while the areas are unreleased', () => {
  // One product started without ENABLE_UNRELEASED serves every unreleased area's check: answering rules here, and the IVR (issue 14).
  it('answers 404 on the API and pages of answering rules, of the IVR, of text messages and of voicemail, and lists no link to them', async () => {
    const pgUrl = testPostgresUrl();
    if (pgUrl) hiddenScratch = await createScratchDatabase(pgUrl, 'answeringhidden');
    hidden = await startProduct(hiddenScratch ? { DATABASE_URL: hiddenScratch.url } : {});
    const c = new HttpClient(hidden.url);
    expect((await activate(c, hidden.activationLink)).status).toBe(303);
    const hiddenDb = openPostgres(hidden.databaseUrl(), 1);
    await hiddenDb.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
    await hiddenDb.destroy();
    const me = (await (await c.get('/api/me')).json()) as { id: string };
    expect((await c.get('/api/me/answering-rules')).status).toBe(404);
    expect((await c.json('PUT', '/api/me/answering-rules', doc())).status).toBe(404);
    expect((await c.get(`/api/users/${me.id}/answering-rules`)).status).toBe(404);
    // Voicemail greetings per rule: neither read, set nor reset.
    expect((await c.get('/api/me/answering-rules/greetings/in_hours')).status).toBe(404);
    expect((await c.request('PUT', '/api/me/answering-rules/greetings/in_hours?name=g.wav', new Uint8Array(64), { 'content-type': 'audio/wav' })).status).toBe(404);
    expect((await c.request('DELETE', `/api/users/${me.id}/answering-rules/greetings/after_hours`)).status).toBe(404);
    expect((await c.get('/me/call-handling')).status).toBe(404);
    expect((await c.get(`/admin/users/${me.id}/call-handling`)).status).toBe(404);
    expect(await (await c.get('/me')).text()).not.toContain('/me/call-handling');
    expect(await (await c.get(`/admin/users/${me.id}`)).text()).not.toContain('/call-handling');
    // The trunk's forwarding setting is neither shown nor taken: the API leaves it out and keeps what is stored, the page has no box.
    const trunkBody = { name: 'Carrier', host: '192.0.2.10', port: 5060, transport: 'udp', username: '', numberFormat: 'e164', inboundAddresses: [] };
    const putHidden = await c.json('PUT', '/api/trunk', { ...trunkBody, forwardCallerId: false });
    expect(putHidden.status).toBe(200);
    expect(await putHidden.json()).not.toHaveProperty('forwardCallerId');
    expect(await (await c.get('/api/trunk')).json()).not.toHaveProperty('forwardCallerId');
    const storedDb = openPostgres(hidden.databaseUrl(), 1);
    expect((await storedDb.selectFrom('sip_trunks').select('forward_caller_id').executeTakeFirstOrThrow()).forward_caller_id).toBe(true);
    await storedDb.destroy();
    expect(await (await c.get('/admin/phone-system/trunk')).text()).not.toContain('forwardCallerId');
    for (const path of ['/api/ivr', '/api/ivr/menus', '/api/ivr/prompts', '/api/ivr/export', '/admin/phone-system/ivr', '/admin/phone-system/ivr/editor', '/admin/phone-system/ivr/prompts']) {
      expect((await c.get(path)).status, path).toBe(404);
    }
    expect((await c.json('POST', '/api/ivr/menus', { number: '1002', name: 'Hidden' })).status).toBe(404);
    expect(await (await c.get('/admin/phone-system')).text()).not.toContain('/admin/phone-system/ivr');
    // The groups' admin pages (issue 15: call queues, paging, call monitoring, park locations, call pickup, shared lines) and the park and shared-line APIs: 404, and no Phone System tab links to them.
    for (const path of ['/admin/phone-system/call-queues', `/admin/phone-system/call-queues/${me.id}`, '/admin/phone-system/paging', `/admin/phone-system/paging/${me.id}`, '/admin/phone-system/monitoring', '/admin/phone-system/park', '/admin/phone-system/pickup', '/admin/phone-system/shared-lines', `/admin/phone-system/shared-lines/${me.id}`, '/api/park-locations', '/api/pickup-groups', '/api/shared-lines']) {
      expect((await c.get(path)).status, path).toBe(404);
    }
    const phoneSystemHtml = await (await c.get('/admin/phone-system')).text();
    expect(phoneSystemHtml).toContain('/admin/phone-system/trunk');
    for (const link of ['/admin/phone-system/call-queues', '/admin/phone-system/paging', '/admin/phone-system/monitoring', '/admin/phone-system/park', '/admin/phone-system/pickup', '/admin/phone-system/shared-lines']) expect(phoneSystemHtml, link).not.toContain(link);
    // Text messages (issue 18): the API answers 404 and the Messages page shows faxes only.
    for (const path of ['/api/me/sms', `/api/me/sms/conversations/${me.id}`]) expect((await c.get(path)).status, path).toBe(404);
    expect((await c.json('POST', '/api/me/sms', { from: '+15125550190', to: '+14155550100', body: 'hidden' })).status).toBe(404);
    const messagesPage = await c.get('/me/messages');
    expect(messagesPage.status).toBe(200);
    expect(await messagesPage.text()).not.toContain('sms-inbox');
    // Voicemail (issue 13): the API answers 404, the Messages page has no Voicemail section and no page a badge.
    for (const path of ['/api/me/voicemail', '/api/me/voicemail/unread', `/api/me/voicemail/messages/${me.id}/audio`]) expect((await c.get(path)).status, path).toBe(404);
    expect((await c.json('PATCH', `/api/me/voicemail/messages/${me.id}`, { status: 'heard' })).status).toBe(404);
    expect((await c.json('DELETE', `/api/me/voicemail/messages/${me.id}`)).status).toBe(404);
    expect((await c.json('POST', `/api/me/voicemail/messages/${me.id}/restore`)).status).toBe(404);
    // The conference bridge (issue 16): the API answers 404.
    expect((await c.get('/api/me/conference')).status).toBe(404);
    expect((await c.json('POST', '/api/me/conference/codes', { which: 'both' })).status).toBe(404);
    const messagesHtml = await (await c.get('/me/messages')).text();
    expect(messagesHtml).not.toContain('voicemail-inbox');
    expect(messagesHtml).not.toContain('voicemail-live');
    // High-volume SMS (issue 18, deliverable 2): the API and the admin page answer 404, and no page links to it.
    for (const path of ['/api/sms/registrations', '/api/sms/quiet-hours', '/api/sms/campaigns', `/api/sms/campaigns/${me.id}`, `/api/sms/campaigns/${me.id}/report`, '/admin/phone-system/high-volume-sms']) {
      expect((await c.get(path)).status, path).toBe(404);
    }
    expect((await c.json('POST', '/api/sms/registrations', { phoneNumber: '+15125550190' })).status).toBe(404);
    expect((await c.json('POST', `/api/sms/registrations/${me.id}/review`, { decision: 'approve' })).status).toBe(404);
    expect(await (await c.get('/admin/phone-system')).text()).not.toContain('high-volume-sms');
    // Where it is enabled, the link and the pages are there.
    expect(await (await sam.get('/me')).text()).toContain('/me/call-handling');
    expect((await sam.get('/me/call-handling')).status).toBe(200);
    expect(await (await admin.get(`/admin/users/${samId}`)).text()).toContain(`/admin/users/${samId}/call-handling`);
    expect((await admin.get(`/admin/users/${samId}/call-handling`)).status).toBe(200);
  }, 180_000);
});
