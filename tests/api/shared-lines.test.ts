import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '@carillon/db';
import { startApiProduct, type ApiProduct } from '../support/api-product.ts';
import type { HttpClient } from '../support/http-client.ts';

/**
 * Shared lines through the API (issue 15 point 3; inventory 2 §12 SL-02…SL-09), on the running product
 * and real PostgreSQL with the unreleased area 'shared_lines' shown: an administrator adds a line with
 * its devices in order, edits its settings and devices, lists by site and deletes it (audited); a number
 * taken, bad input, 17 devices, another account's device or extension, and a device already on another
 * line are refused; a standard user may change nothing; another account's line is not found.
 */
let ctx: ApiProduct;
let db: Db;
let admin: HttpClient;
let sam: HttpClient;
let other: HttpClient;
let accountId = '';
let devices: { mine: string[]; theirs: string };
let theirNumber = '';
const PASSWORD = 'Meadow5Lantern';

interface Line {
  id: string;
  number: string;
  name: string;
  siteId: string;
  enabled: boolean;
  settings: Record<string, unknown> & { takeMessages: boolean; ringSeconds: number };
  devices: { deviceId: string; extensionNumber: string | null }[];
  directNumbers: string[];
}

async function addDevice(account: string, extensionId: string): Promise<string> {
  const row = await db
    .insertInto('devices')
    .values({ account_id: account, extension_id: extensionId, type: 'desk_phone', name: 'Front desk phone', sip_username: `sl${randomBytes(6).toString('hex')}` })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

const SETTINGS = {
  managerEmail: 'desk@example.com',
  hours: { mode: 'custom', days: { mon: [{ from: '09:00', to: '17:00' }], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] } },
  ringSeconds: 30,
  whenUnanswered: { type: 'extension', extension: '2102' },
  afterHours: { type: 'number', number: '+14155550100' },
  greeting: { enabled: true, prompt: { mode: 'tts', text: 'Front desk.' } },
  audioWhileConnecting: { enabled: true, audio: { kind: 'music', track: 'latin' } },
  holdMusic: { enabled: true, audio: { kind: 'music', track: 'classical' } },
  blocked: { mode: 'numbers', numbers: ['+14155550199'], message: 'unavailable' },
  outboundCallerId: { mode: 'individual' },
  takeMessages: false,
  messageRecipient: '2101',
};

beforeAll(async () => {
  ctx = await startApiProduct({
    scratchName: 'shared_lines',
    env: { ENABLE_UNRELEASED: 'shared_lines' },
    users: [
      { extension: '2101', name: 'sam' },
      { extension: '2102', name: 'tom' },
    ],
    signIn: ['sam'],
    password: PASSWORD,
  });
  ({ db, admin, other, accountId } = ctx);
  sam = ctx.users.sam!;
  const otherAccount = ((await (await other.get('/api/me')).json()) as { accountId: string }).accountId;
  const theirExtension = (await db.selectFrom('extensions').select('id').where('account_id', '=', otherAccount).where('type', '=', 'user').executeTakeFirstOrThrow()).id;
  // An extension only the other account has (both accounts start with the same numbers).
  const theirSite = (await db.selectFrom('sites').select('id').where('account_id', '=', otherAccount).executeTakeFirstOrThrow()).id;
  theirNumber = '8765';
  await db.insertInto('extensions').values({ account_id: otherAccount, site_id: theirSite, number: theirNumber, type: 'message_only', status: 'activated', name: 'Their mailbox' }).execute();
  devices = { mine: [await addDevice(accountId, ctx.extensions['2101']!), await addDevice(accountId, ctx.extensions['2102']!), await addDevice(accountId, ctx.extensions['2102']!)], theirs: await addDevice(otherAccount, theirExtension) };
}, 120_000);

afterAll(async () => {
  expect(await ctx?.stop()).toBe(0);
});

describe('shared lines API', () => {
  let line: Line;

  it('adds a line with its devices in order and the default settings (audited); refuses a number taken and bad input', async () => {
    const res = await admin.json('POST', '/api/shared-lines', { name: 'Front Desk', number: '7300', managerEmail: 'desk@example.com', deviceIds: [devices.mine[1], devices.mine[0]] });
    expect(res.status, await res.clone().text()).toBe(201);
    line = ((await res.json()) as { line: Line }).line;
    expect(line).toMatchObject({ number: '7300', name: 'Front Desk', enabled: true, directNumbers: [] });
    expect(line.devices.map((d) => d.deviceId)).toEqual([devices.mine[1], devices.mine[0]]);
    // SL-09: taking messages is on by default; the manager's e-mail is kept.
    expect(line.settings).toMatchObject({ takeMessages: true, messageRecipient: null, managerEmail: 'desk@example.com', outboundCallerId: { mode: 'individual' }, hours: { mode: '24h' } });
    expect(await db.selectFrom('extensions').select(['type', 'status']).where('id', '=', line.id).executeTakeFirstOrThrow()).toEqual({ type: 'shared_lines', status: 'activated' });

    expect((await admin.json('POST', '/api/shared-lines', { name: 'Clash', number: '2101' })).status).toBe(409);
    const bad = await admin.json('POST', '/api/shared-lines', { name: '', number: 'abc', deviceIds: ['x'] });
    expect(bad.status).toBe(400);
    expect(Object.keys(((await bad.json()) as { fields: Record<string, string> }).fields).sort()).toEqual(['deviceIds.0', 'name', 'number']);
    expect((await admin.json('POST', '/api/shared-lines', { name: 'Extra', number: '7301', colour: 'red' })).status).toBe(400);
    expect((await admin.json('POST', '/api/shared-lines', { name: 'Twice', number: '7301', deviceIds: [devices.mine[2], devices.mine[2]] })).status).toBe(400);
    // SL-01: 16 devices at most.
    const seventeen = Array.from({ length: 17 }, () => crypto.randomUUID());
    const many = await admin.json('POST', '/api/shared-lines', { name: 'Many', number: '7302', deviceIds: seventeen });
    expect(many.status).toBe(400);
    expect(((await many.json()) as { fields: Record<string, string> }).fields.deviceIds).toMatch(/16/);

    const audit = await db.selectFrom('audit_events').select(['action', 'target_id']).where('account_id', '=', accountId).where('action', 'like', 'shared_line.%').execute();
    expect(audit).toEqual([{ action: 'shared_line.created', target_id: line.id }]);
  });

  it("refuses another account's device, a device of another line, and another account's extension or number in the settings, changing nothing", async () => {
    const theirs = await admin.json('POST', '/api/shared-lines', { name: 'Theirs', number: '7303', deviceIds: [devices.theirs] });
    expect(theirs.status).toBe(400);
    expect(((await theirs.json()) as { fields: Record<string, string> }).fields.deviceIds).toMatch(/not a device of this account/);
    const taken = await admin.json('POST', '/api/shared-lines', { name: 'Taken', number: '7304', deviceIds: [devices.mine[0]] });
    expect(taken.status).toBe(400);
    expect(((await taken.json()) as { fields: Record<string, string> }).fields.deviceIds).toMatch(/another shared line/);
    // The other account's user's extension number, which is not one of ours.
    expect(await db.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('number', '=', theirNumber).executeTakeFirst()).toBeUndefined();
    const recipient = await admin.json('PATCH', `/api/shared-lines/${line.id}`, { settings: { ...SETTINGS, messageRecipient: theirNumber } });
    expect(recipient.status).toBe(400);
    expect(((await recipient.json()) as { fields: Record<string, string> }).fields.settings).toMatch(/not an extension of this account/);
    const callerId = await admin.json('PATCH', `/api/shared-lines/${line.id}`, { settings: { ...SETTINGS, outboundCallerId: { mode: 'group', number: '+14155550123' } } });
    expect(callerId.status).toBe(400);
    expect(((await callerId.json()) as { fields: Record<string, string> }).fields).toHaveProperty(['settings.outboundCallerId.number']);
    const shape = await admin.json('PATCH', `/api/shared-lines/${line.id}`, { settings: { ...SETTINGS, ringSeconds: 7, blocked: { mode: 'some', numbers: [], message: 'x' } } });
    expect(shape.status).toBe(400);
    expect(((await (await admin.get('/api/shared-lines')).json()) as { lines: Line[] }).lines.map((l) => l.number)).toEqual(['7300']);
    expect(((await (await admin.get(`/api/shared-lines/${line.id}`)).json()) as { line: Line }).line).toEqual(line);
  });

  it('saves the settings and a new device order; a field left out is kept; lists by site (audited)', async () => {
    const res = await admin.json('PATCH', `/api/shared-lines/${line.id}`, { name: 'Reception', settings: SETTINGS, deviceIds: [devices.mine[0], devices.mine[2], devices.mine[1]] });
    expect(res.status, await res.clone().text()).toBe(200);
    const saved = ((await res.json()) as { line: Line }).line;
    expect(saved).toMatchObject({ id: line.id, name: 'Reception', number: '7300', settings: SETTINGS });
    expect(saved.devices.map((d) => d.deviceId)).toEqual([devices.mine[0], devices.mine[2], devices.mine[1]]);
    expect(saved.devices[0]!.extensionNumber).toBe('2101');
    const again = ((await (await admin.json('PATCH', `/api/shared-lines/${line.id}`, { enabled: false })).json()) as { line: Line }).line;
    expect(again).toEqual({ ...saved, enabled: false });
    expect((await admin.json('PATCH', `/api/shared-lines/${line.id}`, { number: '2102' })).status).toBe(409);
    expect(((await (await admin.get(`/api/shared-lines?siteId=${saved.siteId}`)).json()) as { lines: Line[] }).lines.map((l) => l.id)).toEqual([line.id]);
    expect(((await (await admin.get(`/api/shared-lines?siteId=${crypto.randomUUID()}`)).json()) as { lines: Line[] }).lines).toEqual([]);
    expect((await admin.get('/api/shared-lines?siteId=nope')).status).toBe(400);
    const updates = await db.selectFrom('audit_events').select(['action', 'before', 'after']).where('account_id', '=', accountId).where('action', '=', 'shared_line.updated').orderBy('id').execute();
    expect(updates).toHaveLength(2);
    expect(updates[0]!.after).toMatchObject({ name: 'Reception', settings: { takeMessages: false } });
    line = again;
  });

  it('lets a standard user read nothing and change nothing', async () => {
    expect((await sam.get('/api/shared-lines')).status).toBe(403);
    expect((await sam.get(`/api/shared-lines/${line.id}`)).status).toBe(403);
    expect((await sam.json('POST', '/api/shared-lines', { name: 'Mine', number: '7400' })).status).toBe(403);
    expect((await sam.json('PATCH', `/api/shared-lines/${line.id}`, { name: 'Mine' })).status).toBe(403);
    expect((await sam.json('DELETE', `/api/shared-lines/${line.id}`)).status).toBe(403);
  });

  it("does not show another account's line, nor let it be changed or deleted", async () => {
    expect((await other.get(`/api/shared-lines/${line.id}`)).status).toBe(404);
    expect((await other.json('PATCH', `/api/shared-lines/${line.id}`, { name: 'Mallory' })).status).toBe(404);
    expect((await other.json('DELETE', `/api/shared-lines/${line.id}`)).status).toBe(404);
    expect(((await (await other.get('/api/shared-lines')).json()) as { lines: Line[] }).lines).toEqual([]);
    expect((await admin.get('/api/shared-lines/not-a-uuid')).status).toBe(404);
  });

  it('deletes a line with its devices (audited)', async () => {
    expect((await admin.json('DELETE', `/api/shared-lines/${line.id}`)).status).toBe(204);
    expect((await admin.get(`/api/shared-lines/${line.id}`)).status).toBe(404);
    expect(await db.selectFrom('shared_line_devices').select('device_id').where('line_extension_id', '=', line.id).execute()).toEqual([]);
    const actions = (await db.selectFrom('audit_events').select('action').where('account_id', '=', accountId).where('action', 'like', 'shared_line.%').orderBy('id').execute()).map((a) => a.action);
    expect(actions).toEqual(['shared_line.created', 'shared_line.updated', 'shared_line.updated', 'shared_line.deleted']);
  });
});
