import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '@carillon/db';
import { startApiProduct, type ApiProduct } from '../support/api-product.ts';
import type { HttpClient } from '../support/http-client.ts';

/**
 * Call queues through the API (issue 15), on the running product and real PostgreSQL with the
 * unreleased area 'queues' shown: an administrator adds a queue and saves its settings and members
 * (validated by field, audited); a number already taken, a member that is not a user and 26 callers
 * are refused; a standard user may not change queues; another account's queue is not found.
 */
let ctx: ApiProduct;
let db: Db;
let admin: HttpClient;
let sam: HttpClient;
let other: HttpClient;
let accountId = '';
const PASSWORD = 'Meadow5Lantern';

interface Queue {
  extensionId: string;
  number: string;
  name: string;
  settings: Record<string, unknown> & { distribution: string; maxCallers: number };
  members: { number: string; position: number; accepting: boolean }[];
}

beforeAll(async () => {
  ctx = await startApiProduct({
    scratchName: 'call_queues',
    env: { ENABLE_UNRELEASED: 'queues' },
    users: [
      { extension: '2101', name: 'sam' },
      { extension: '2102', name: 'tom' },
    ],
    signIn: ['sam'],
    password: PASSWORD,
  });
  ({ db, admin, other, accountId } = ctx);
  sam = ctx.users.sam!;
}, 120_000);

afterAll(async () => {
  expect(await ctx?.stop()).toBe(0);
});

describe('call queues API', () => {
  let queue: Queue;

  it('adds a queue with the default settings (Rotating, 25 callers at most); a number already taken is refused', async () => {
    const res = await admin.json('POST', '/api/call-queues', { number: '6100', name: 'Sales' });
    expect(res.status, await res.clone().text()).toBe(201);
    queue = ((await res.json()) as { queue: Queue }).queue;
    expect(queue).toMatchObject({ number: '6100', name: 'Sales', settings: { distribution: 'rotating', maxCallers: 25 }, members: [] });
    expect((await admin.json('POST', '/api/call-queues', { number: '2101', name: 'Clash' })).status).toBe(409);
    expect((await admin.json('POST', '/api/call-queues', { number: 'abc', name: 'Bad' })).status).toBe(400);
    const list = ((await (await admin.get('/api/call-queues')).json()) as { queues: Queue[] }).queues;
    expect(list.map((q) => q.number)).toEqual(['6100']);
  });

  it('saves settings and members in order, audited; refuses 26 callers and a member that is not a user', async () => {
    const settings = { ...queue.settings, distribution: 'sequential', maxCallers: 10, wrapUpSeconds: 30 };
    const put = await admin.json('PUT', `/api/call-queues/${queue.extensionId}`, {
      settings,
      members: [
        { extension: '2102', accepting: true },
        { extension: '2101', accepting: false },
      ],
    });
    expect(put.status, await put.clone().text()).toBe(200);
    const saved = ((await put.json()) as { queue: Queue }).queue;
    expect(saved.settings).toMatchObject({ distribution: 'sequential', maxCallers: 10, wrapUpSeconds: 30 });
    expect(saved.members.map((m) => [m.number, m.position, m.accepting])).toEqual([
      ['2102', 0, true],
      ['2101', 1, false],
    ]);
    expect(((await (await admin.get(`/api/call-queues/${queue.extensionId}`)).json()) as { queue: Queue }).queue).toEqual(saved);
    const audit = await db.selectFrom('audit_events').select(['action', 'target_id']).where('account_id', '=', accountId).where('action', 'in', ['call_queue.created', 'call_queue.updated']).orderBy('id').execute();
    expect(audit).toEqual([
      { action: 'call_queue.created', target_id: queue.extensionId },
      { action: 'call_queue.updated', target_id: queue.extensionId },
    ]);

    const tooMany = await admin.json('PUT', `/api/call-queues/${queue.extensionId}`, { settings: { ...settings, maxCallers: 26 }, members: [] });
    expect(tooMany.status).toBe(400);
    const notUser = await admin.json('PUT', `/api/call-queues/${queue.extensionId}`, { settings, members: [{ extension: '6100', accepting: true }] });
    expect(notUser.status).toBe(409);
    expect(((await notUser.json()) as { error: string }).error).toBe('not_a_user');
    // Nothing changed by the refusals.
    expect(((await (await admin.get(`/api/call-queues/${queue.extensionId}`)).json()) as { queue: Queue }).queue).toEqual(saved);
  });

  it('lets a standard user change nothing', async () => {
    expect((await sam.json('POST', '/api/call-queues', { number: '6200', name: 'Mine' })).status).toBe(403);
    expect((await sam.json('PUT', `/api/call-queues/${queue.extensionId}`, { settings: queue.settings, members: [] })).status).toBe(403);
  });

  it('lets an agent log in and out of their queue, or all of them, and of no other', async () => {
    const mine = async () => ((await (await sam.get('/api/me/call-queues')).json()) as { queues: { queueExtensionId: string; number: string; accepting: boolean }[] }).queues;
    expect(await mine()).toEqual([{ queueExtensionId: queue.extensionId, number: '6100', name: 'Sales', accepting: false }]);
    const login = await sam.json('PUT', '/api/me/call-queues', { queueId: queue.extensionId, accepting: true });
    expect(login.status, await login.clone().text()).toBe(200);
    expect((await mine())[0]!.accepting).toBe(true);
    expect((await sam.json('PUT', '/api/me/call-queues', { queueId: null, accepting: false })).status).toBe(200);
    expect((await mine())[0]!.accepting).toBe(false);
    // The administrator sees it in the queue's members.
    const members = ((await (await admin.get(`/api/call-queues/${queue.extensionId}`)).json()) as { queue: Queue }).queue.members;
    expect(members.find((m) => m.number === '2101')?.accepting).toBe(false);
    expect(await db.selectFrom('audit_events').select('action').where('account_id', '=', accountId).where('action', 'like', 'call_queue.member%').execute()).toHaveLength(2);
    // A queue they do not belong to, another account's, or a bad body.
    const otherQueue = ((await (await admin.json('POST', '/api/call-queues', { number: '6101', name: 'Support' })).json()) as { queue: Queue }).queue;
    expect((await sam.json('PUT', '/api/me/call-queues', { queueId: otherQueue.extensionId, accepting: true })).status).toBe(404);
    expect((await sam.json('PUT', '/api/me/call-queues', { queueId: 'x', accepting: true })).status).toBe(400);
    expect(((await (await other.get('/api/me/call-queues')).json()) as { queues: unknown[] }).queues).toEqual([]);
    expect((await other.json('PUT', '/api/me/call-queues', { queueId: queue.extensionId, accepting: true })).status).toBe(404);
  });

  it('saves the queue’s own hours and after-hours action (CQ-12); refuses hours that are not a schedule', async () => {
    const current = ((await (await admin.get(`/api/call-queues/${queue.extensionId}`)).json()) as { queue: Queue }).queue;
    const members = current.members.map((m) => ({ extension: m.number, accepting: m.accepting }));
    const hours = { mode: 'custom', days: { mon: [{ from: '09:00', to: '12:00' }, { from: '13:00', to: '17:00' }], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] } };
    const afterHours = { type: 'disconnect', message: { mode: 'tts', text: 'We are closed.' } };
    const put = await admin.json('PUT', `/api/call-queues/${queue.extensionId}`, { settings: { ...current.settings, hours, afterHours }, members });
    expect(put.status, await put.clone().text()).toBe(200);
    expect(((await put.json()) as { queue: Queue }).queue.settings).toMatchObject({ hours, afterHours });
    const overlapping = { mode: 'custom', days: { ...hours.days, mon: [{ from: '09:00', to: '14:00' }, { from: '13:00', to: '17:00' }] } };
    for (const bad of [{ hours: overlapping }, { hours: { mode: 'custom', days: { ...hours.days, mon: [{ from: '25:00', to: '26:00' }] } } }, { afterHours: { type: 'extension' } }]) {
      const res = await admin.json('PUT', `/api/call-queues/${queue.extensionId}`, { settings: { ...current.settings, ...bad }, members });
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
  });

  it('saves the queue’s notifications (CQ-11), audited with before and after; refuses an address that is not one and keeps what was saved', async () => {
    const current = ((await (await admin.get(`/api/call-queues/${queue.extensionId}`)).json()) as { queue: Queue }).queue;
    // X-05's defaults: voicemail e-mailed, missed calls not, to the managers with Full Access (no address).
    expect(current.settings).toMatchObject({ notifications: { email: null, voicemail: { email: true, attachment: false, to: null }, missedCalls: { email: false, to: null } } });
    const members = current.members.map((m) => ({ extension: m.number, accepting: m.accepting }));
    const notifications = { email: 'support-team@example.com', voicemail: { email: true, attachment: true, to: null }, missedCalls: { email: true, to: 'missed@example.com' } };
    const put = await admin.json('PUT', `/api/call-queues/${queue.extensionId}`, { settings: { ...current.settings, notifications }, members });
    expect(put.status, await put.clone().text()).toBe(200);
    expect(((await put.json()) as { queue: Queue }).queue.settings).toMatchObject({ notifications });
    const audit = await db.selectFrom('audit_events').select(['before', 'after']).where('account_id', '=', accountId).where('action', '=', 'call_queue.updated').where('target_id', '=', queue.extensionId).orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(audit.after).toMatchObject({ settings: { notifications } });
    expect(audit.before).toMatchObject({ settings: { notifications: { email: null } } });
    for (const bad of [{ ...notifications, email: 'not an address' }, { ...notifications, missedCalls: { email: true } }, { ...notifications, fax: { email: true } }]) {
      const res = await admin.json('PUT', `/api/call-queues/${queue.extensionId}`, { settings: { ...current.settings, notifications: bad }, members });
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
    expect((await sam.json('PUT', `/api/call-queues/${queue.extensionId}`, { settings: { ...current.settings, notifications: { ...notifications, email: 'sam@example.com' } }, members })).status).toBe(403);
    const after = ((await (await admin.get(`/api/call-queues/${queue.extensionId}`)).json()) as { queue: Queue }).queue;
    expect(after.settings).toMatchObject({ notifications });
  });

  it('saves the queue’s custom rules and blocked calls (CQ-12) in the company rules’ shape, audited; refuses a rule without conditions or a number that is not E.164', async () => {
    const current = ((await (await admin.get(`/api/call-queues/${queue.extensionId}`)).json()) as { queue: Queue }).queue;
    expect(current.settings).toMatchObject({ customRules: [], blocked: { anonymous: false, numbers: [], message: 'not_accepting' } });
    const members = current.members.map((m) => ({ extension: m.number, accepting: m.accepting }));
    const customRules = [
      { name: 'VIP', enabled: true, conditions: [{ type: 'caller_id', numbers: ['+14155550100'], contactIds: [], anonymous: false }], target: { type: 'extension', extension: '2102' } },
      { name: 'Holiday', enabled: false, conditions: [{ type: 'date_range', ranges: [{ from: '2026-12-25T00:00', to: '2026-12-26T00:00' }] }], target: { type: 'voicemail' } },
    ];
    const blocked = { anonymous: true, numbers: ['+33612345678'], message: 'goodbye' };
    const put = await admin.json('PUT', `/api/call-queues/${queue.extensionId}`, { settings: { ...current.settings, customRules, blocked }, members });
    expect(put.status, await put.clone().text()).toBe(200);
    expect(((await put.json()) as { queue: Queue }).queue.settings).toMatchObject({ customRules, blocked });
    const audit = await db.selectFrom('audit_events').select('after').where('account_id', '=', accountId).where('action', '=', 'call_queue.updated').where('target_id', '=', queue.extensionId).orderBy('id', 'desc').executeTakeFirstOrThrow();
    // The audit trail keeps a bounded depth of the settings: the rules by name and state, the blocking.
    expect(audit.after).toMatchObject({ settings: { customRules: [{ name: 'VIP', enabled: true, target: { type: 'extension', extension: '2102' } }, { name: 'Holiday', enabled: false }], blocked: { anonymous: true, message: 'goodbye' } } });
    for (const bad of [
      { customRules: [{ ...customRules[0], conditions: [] }] },
      { customRules: [{ ...customRules[0], target: { type: 'menu', menu: '1' } }] },
      { blocked: { ...blocked, numbers: ['0612345678'] } },
      { blocked: { ...blocked, message: 'rude' } },
    ]) {
      const res = await admin.json('PUT', `/api/call-queues/${queue.extensionId}`, { settings: { ...current.settings, ...bad }, members });
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
    const after = ((await (await admin.get(`/api/call-queues/${queue.extensionId}`)).json()) as { queue: Queue }).queue;
    expect(after.settings).toMatchObject({ customRules, blocked });
  });

  it('turns on the callback that keeps the caller’s place, with its key; refuses a key that is not on a keypad', async () => {
    const current = ((await (await admin.get(`/api/call-queues/${queue.extensionId}`)).json()) as { queue: Queue }).queue;
    expect(current.settings).toMatchObject({ callback: { enabled: false, key: '1' } });
    const members = current.members.map((m) => ({ extension: m.number, accepting: m.accepting }));
    const put = await admin.json('PUT', `/api/call-queues/${queue.extensionId}`, { settings: { ...current.settings, callback: { enabled: true, key: '2' } }, members });
    expect(put.status, await put.clone().text()).toBe(200);
    expect(((await (await admin.get(`/api/call-queues/${queue.extensionId}`)).json()) as { queue: Queue }).queue.settings).toMatchObject({ callback: { enabled: true, key: '2' } });
    const bad = await admin.json('PUT', `/api/call-queues/${queue.extensionId}`, { settings: { ...current.settings, callback: { enabled: true, key: 'a' } }, members });
    expect(bad.status).toBe(400);
  });

  it('copies another queue’s settings into a new queue (the wizard’s "Copy Settings From"), not its members; another account’s queue is not found', async () => {
    const source = ((await (await admin.get(`/api/call-queues/${queue.extensionId}`)).json()) as { queue: Queue }).queue;
    const res = await admin.json('POST', '/api/call-queues', { number: '6102', name: 'Sales copy', copyFrom: queue.extensionId });
    expect(res.status, await res.clone().text()).toBe(201);
    const copy = ((await res.json()) as { queue: Queue }).queue;
    expect(copy.settings).toEqual(source.settings);
    expect(copy.members).toEqual([]);
    const theirs = ((await (await other.json('POST', '/api/call-queues', { number: '6300', name: 'Theirs' })).json()) as { queue: Queue }).queue;
    expect((await admin.json('POST', '/api/call-queues', { number: '6103', name: 'Stolen', copyFrom: theirs.extensionId })).status).toBe(404);
    expect((await admin.json('POST', '/api/call-queues', { number: '6103', name: 'Bad', copyFrom: 'nope' })).status).toBe(400);
  });

  it('sets managers with a PIN, at least one with Full Access (CQ-02 step 2); a Members Only manager changes the members only', async () => {
    const url = `/api/call-queues/${queue.extensionId}/managers`;
    expect(await (await admin.get(url)).json()).toEqual({ managers: [], pinSet: false });
    const managers = [
      { extension: '2101', permission: 'members_only' },
      { extension: '2102', permission: 'full' },
    ];
    // Refused: nobody with Full Access, PINs that differ or break the PIN rules, no PIN the first time, a number that is not a user.
    const noFull = await admin.json('PUT', url, { pin: '480291', pinConfirm: '480291', managers: [{ extension: '2101', permission: 'members_only' }] });
    expect(noFull.status).toBe(400);
    expect(await noFull.text()).toContain('Full Access');
    expect((await admin.json('PUT', url, { pin: '480291', pinConfirm: '480292', managers })).status).toBe(400);
    expect((await admin.json('PUT', url, { pin: '123456', pinConfirm: '123456', managers })).status).toBe(400);
    expect((await admin.json('PUT', url, { managers })).status).toBe(400);
    expect((await admin.json('PUT', url, { pin: '480291', pinConfirm: '480291', managers: [{ extension: '6101', permission: 'full' }] })).status).toBe(409);
    expect((await sam.json('PUT', url, { pin: '480291', pinConfirm: '480291', managers })).status).toBe(403);
    const put = await admin.json('PUT', url, { pin: '480291', pinConfirm: '480291', managers });
    expect(put.status, await put.clone().text()).toBe(200);
    const saved = (await put.json()) as { managers: { extension: string; permission: string }[]; pinSet: boolean };
    expect(saved.pinSet).toBe(true);
    expect(saved.managers.map((m) => [m.extension, m.permission])).toEqual([
      ['2101', 'members_only'],
      ['2102', 'full'],
    ]);
    // The PIN is kept when left out afterwards, and never shown nor written in the trail.
    expect((await admin.json('PUT', url, { managers })).status).toBe(200);
    const trail = await db.selectFrom('audit_events').select(['after']).where('account_id', '=', accountId).where('action', '=', 'call_queue.managers_updated').execute();
    expect(trail).toHaveLength(2);
    expect(JSON.stringify(trail)).not.toContain('480291');

    // Sam manages the queue with Members Only: its members, never its settings.
    const mine = ((await (await sam.get('/api/me/managed-call-queues')).json()) as { queues: { queueExtensionId: string; permission: string }[] }).queues;
    expect(mine).toEqual([{ queueExtensionId: queue.extensionId, number: '6100', name: 'Sales', permission: 'members_only' }]);
    const managed = `/api/me/managed-call-queues/${queue.extensionId}`;
    const current = ((await (await sam.get(managed)).json()) as { queue: Queue; permission: string }).queue;
    expect((await sam.json('PUT', managed, { settings: { ...current.settings, maxCallers: 5 }, members: [{ extension: '2101' }] })).status).toBe(403);
    const membersOnly = await sam.json('PUT', managed, { members: [{ extension: '2101', accepting: true }] });
    expect(membersOnly.status, await membersOnly.clone().text()).toBe(200);
    const after = ((await membersOnly.json()) as { queue: Queue }).queue;
    expect(after.members.map((m) => m.number)).toEqual(['2101']);
    expect(after.settings).toEqual(current.settings);
    expect((await sam.json('PUT', managed, { members: 'all' })).status).toBe(400);
    // A queue sam does not manage, and another account's.
    const support = ((await (await admin.get('/api/call-queues')).json()) as { queues: Queue[] }).queues.find((q) => q.number === '6101')!;
    expect((await sam.json('PUT', `/api/me/managed-call-queues/${support.extensionId}`, { members: [] })).status).toBe(404);
    expect((await other.get(managed)).status).toBe(404);
    expect((await other.get(url)).status).toBe(404);
    expect((await other.json('PUT', url, { pin: '480291', pinConfirm: '480291', managers })).status).toBe(404);
  });

  it('saves the queue’s message recipient and voicemail-to-text (CQ-09, CQ-10)', async () => {
    const url = `/api/call-queues/${queue.extensionId}/voicemail`;
    expect(await (await admin.get(url)).json()).toEqual({ recipient: null, transcribe: true });
    const put = await admin.json('PUT', url, { recipient: '2102', transcribe: false });
    expect(put.status, await put.clone().text()).toBe(200);
    expect(await (await admin.get(url)).json()).toEqual({ recipient: '2102', transcribe: false });
    // The queue itself, by its number, is "This call queue".
    expect(await (await admin.json('PUT', url, { recipient: '6100', transcribe: false })).json()).toEqual({ recipient: null, transcribe: false });
    expect((await admin.json('PUT', url, { recipient: '6101', transcribe: true })).status).toBe(409);
    expect((await admin.json('PUT', url, { recipient: '2102' })).status).toBe(400);
    expect((await sam.json('PUT', url, { recipient: null, transcribe: true })).status).toBe(403);
    expect((await other.get(url)).status).toBe(404);
    expect((await other.json('PUT', url, { recipient: null, transcribe: true })).status).toBe(404);
    expect(await db.selectFrom('audit_events').select('action').where('account_id', '=', accountId).where('action', '=', 'call_queue.voicemail_updated').execute()).toHaveLength(2);
  });

  it("does not show another account's queue, nor let it be changed", async () => {
    expect((await other.get(`/api/call-queues/${queue.extensionId}`)).status).toBe(404);
    expect((await other.json('PUT', `/api/call-queues/${queue.extensionId}`, { settings: queue.settings, members: [] })).status).toBe(404);
    // Only its own queue (added by the copy test), never ours.
    expect(((await (await other.get('/api/call-queues')).json()) as { queues: Queue[] }).queues.map((q) => q.number)).toEqual(['6300']);
    expect((await admin.get('/api/call-queues/not-a-uuid')).status).toBe(404);
  });
});
