import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAccount, createSharedLine, issueDeviceCredentials, predefinedRoleId, sharedLineGroupCallerIds, updateSharedLine } from '@carillon/core';
import { DEFAULT_SHARED_LINE_SETTINGS } from '@carillon/domain';
import { DND_STATUSES, dndTakesCall, type Db, type DndStatus } from '@carillon/db';
import { freshDb } from '../../../tests/support/env.ts';
import { loadAccountConfig } from '../../src/routing/account-config.ts';
import { ACCOUNT_OUTBOUND_CALLING, externalTransferDestination, formatForTrunk, forwardingDestination, mailboxCallBackDestination, routeCall as routeWith, type Caller } from '../../src/routing/dial-plan.ts';

/** Routes with the account's configuration as it is in the database now (the engine's cache holds the same snapshot). */
const routeCall = async (_db: Db, caller: Caller, dialed: string) => routeWith(await loadAccountConfig(_db, caller.accountId), caller, dialed);

let db: Db;
let accountId: string;
let alice: Caller & { kind: 'device' };
let bobExtensionId: string;
let carolExtensionId: string;

async function addUser(number: string, role: 'standard' | 'standard_international', siteId: string) {
  const ext = await db.insertInto('extensions').values({ account_id: accountId, site_id: siteId, number, type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
  await db
    .insertInto('users')
    .values({ account_id: accountId, extension_id: ext.id, role_id: await predefinedRoleId(db, role), first_name: `User${number}`, email: `u${number}-${randomBytes(3).toString('hex')}@x.test`, setup_progress: '{}' })
    .execute();
  return ext.id;
}

beforeAll(async () => {
  db = await freshDb();
  const acct = await createAccount(db, { company: 'Dial Co', email: 'dial@x.test', mainNumber: '+14155550100' }, { activationTtlHours: 1 });
  accountId = acct.accountId;
  const main = await db.selectFrom('sites').select('id').where('account_id', '=', accountId).executeTakeFirstOrThrow();
  const branch = await db.insertInto('sites').values({ account_id: accountId, name: 'Branch', site_code: '22' }).returning('id').executeTakeFirstOrThrow();
  const aliceExt = await addUser('201', 'standard', main.id);
  bobExtensionId = await addUser('202', 'standard_international', main.id);
  carolExtensionId = await addUser('201', 'standard', branch.id);
  const dev = await issueDeviceCredentials(db, { userId: null, ip: null }, { accountId, extensionId: aliceExt, type: 'desk_phone', name: 'A', realm: 'r' });
  alice = { kind: 'device', accountId, extensionId: aliceExt, deviceId: dev.deviceId };
  await db.insertInto('phone_numbers').values({ account_id: accountId, e164: '+14155550177', type: 'direct', extension_id: bobExtensionId }).execute();
  await db.insertInto('sip_trunks').values({ account_id: accountId, name: 'Carrier', host: '127.0.0.1', port: 5090, inbound_addresses: JSON.stringify(['127.0.0.1']) }).execute();
});

describe('dial plan', () => {
  it('routes short and site-code extensions internally', async () => {
    expect(await routeCall(db, alice, '202')).toMatchObject({ kind: 'extension', extensionId: bobExtensionId, direction: 'internal' });
    expect(await routeCall(db, alice, '22201')).toMatchObject({ kind: 'extension', extensionId: carolExtensionId });
    // A number of the account dialled from inside stays internal.
    expect(await routeCall(db, alice, '(415) 555-0177')).toMatchObject({ kind: 'extension', extensionId: bobExtensionId });
  });

  it('sends national numbers to the trunk in E.164 with the main number as caller ID', async () => {
    const r = await routeCall(db, alice, '212 555 0199');
    expect(r).toMatchObject({ kind: 'pstn', e164: '+12125550199', emergency: false, trunk: { dialString: '+12125550199', host: '127.0.0.1', port: 5090 }, callerId: { number: '+14155550100' } });
  });

  it('uses the direct number as caller ID when the user has one', async () => {
    const bobDevice = await issueDeviceCredentials(db, { userId: null, ip: null }, { accountId, extensionId: bobExtensionId, type: 'softphone', name: 'B', realm: 'r' });
    const r = await routeCall(db, { kind: 'device', accountId, extensionId: bobExtensionId, deviceId: bobDevice.deviceId }, '+33142685300');
    expect(r).toMatchObject({ kind: 'pstn', e164: '+33142685300', callerId: { number: '+14155550177' } });
  });

  it('enforces outbound calling permissions (seed 002) but always allows emergency calls', async () => {
    expect(await routeCall(db, alice, '+33142685300')).toMatchObject({ kind: 'reject', status: 403, result: 'forbidden' });
    await db.updateTable('users').set({ outbound_calling: 'emergency_only' }).where('extension_id', '=', alice.extensionId).execute();
    expect(await routeCall(db, alice, '2125550199')).toMatchObject({ kind: 'reject', status: 403 });
    expect(await routeCall(db, alice, '911')).toMatchObject({ kind: 'pstn', emergency: true, trunk: { dialString: '911' } });
    await db.updateTable('users').set({ outbound_calling: 'international', block_caller_id: true }).where('extension_id', '=', alice.extensionId).execute();
    expect(await routeCall(db, alice, '+33142685300')).toMatchObject({ kind: 'pstn', callerId: { number: null } });
    // Emergency calls always carry the caller ID, even when it is blocked.
    expect(await routeCall(db, alice, '911')).toMatchObject({ kind: 'pstn', callerId: { number: '+14155550100' } });
  });

  it('routes inbound DIDs to their extension and company numbers to the operator', async () => {
    const trunk = { kind: 'trunk' as const, accountId, trunkId: 'x' };
    expect(await routeCall(db, trunk, '+14155550177')).toMatchObject({ kind: 'extension', extensionId: bobExtensionId, direction: 'inbound' });
    expect(await routeCall(db, trunk, '14155550100')).toMatchObject({ kind: 'extension', extensionNumber: '101', direction: 'inbound' });
    expect(await routeCall(db, trunk, '+14155550111')).toMatchObject({ kind: 'reject', status: 404 });
  });

  it('follows the three Do Not Disturb states (seed 000): only "take no calls" refuses a direct call; "no call-queue calls" refuses queue calls only', async () => {
    const setDnd = (dnd: DndStatus) => db.updateTable('extensions').set({ dnd_status: dnd }).where('id', '=', bobExtensionId).execute();
    await setDnd('no_queue_calls');
    expect(await routeCall(db, alice, '202')).toMatchObject({ kind: 'extension', extensionId: bobExtensionId });
    await setDnd('no_calls');
    expect(await routeCall(db, alice, '202')).toMatchObject({ kind: 'reject', status: 480, reason: 'Do Not Disturb', result: 'unavailable' });
    await setDnd('take_all_calls');
    expect(await routeCall(db, alice, '202')).toMatchObject({ kind: 'extension', extensionId: bobExtensionId });
    // The rule call queues will apply when they offer a call to a member.
    expect(DND_STATUSES.map((d) => [d, dndTakesCall(d, 'direct'), dndTakesCall(d, 'queue')])).toEqual([
      ['take_all_calls', true, true],
      ['no_queue_calls', true, false],
      ['no_calls', false, false],
    ]);
  });

  it('answers 484 to what cannot be a number', async () => {
    expect(await routeCall(db, alice, '12')).toMatchObject({ kind: 'reject', status: 484 });
  });

  it('formats numbers the way the carrier asks', () => {
    expect(formatForTrunk('+14155550100', 'e164_no_plus', 'US')).toBe('14155550100');
    expect(formatForTrunk('+14155550100', 'national', 'US')).toBe('4155550100');
    expect(formatForTrunk('+33142685300', 'national', 'FR')).toBe('0142685300');
    expect(formatForTrunk('+14155550100', 'national', 'FR')).toBe('0014155550100');
  });
});

describe('dial plan: destinations of the special extensions and star codes', () => {
  const addExtension = async (number: string, type: 'message_only' | 'announcement_only' | 'call_queue' | 'ivr_menu' | 'park_location' | 'paging', status: 'activated' | 'disabled' = 'activated') => {
    const site = await db.selectFrom('sites').select('id').where('account_id', '=', accountId).where('is_main', '=', true).executeTakeFirstOrThrow();
    return (await db.insertInto('extensions').values({ account_id: accountId, site_id: site.id, number, type, status }).returning('id').executeTakeFirstOrThrow()).id;
  };

  it('sends each kind of extension to its application (inventory 2: special extensions, queues, IVR menus, park locations, paging groups)', async () => {
    const mailbox = await addExtension('301', 'message_only');
    const announcement = await addExtension('302', 'announcement_only');
    const queue = await addExtension('303', 'call_queue');
    const menu = await addExtension('304', 'ivr_menu', 'disabled');
    const park = await addExtension('305', 'park_location');
    const paging = await addExtension('306', 'paging');
    expect(await routeCall(db, alice, '301')).toEqual({ kind: 'voicemail', accountId, extensionId: mailbox, extensionNumber: '301', why: 'message_only' });
    expect(await routeCall(db, alice, '302')).toEqual({ kind: 'announcement', accountId, extensionId: announcement, extensionNumber: '302', direction: 'internal' });
    expect(await routeCall(db, alice, '303')).toEqual({ kind: 'queue', accountId, extensionId: queue, extensionNumber: '303', direction: 'internal' });
    // A disabled extension of any type is unavailable, as a disabled user's is.
    expect(await routeCall(db, alice, '304')).toMatchObject({ kind: 'reject', status: 480, result: 'unavailable' });
    await db.updateTable('extensions').set({ status: 'activated' }).where('id', '=', menu).execute();
    expect(await routeCall(db, alice, '304')).toEqual({ kind: 'ivr', accountId, menuId: menu, direction: 'internal' });
    expect(await routeCall(db, alice, '305')).toEqual({ kind: 'park', accountId, slot: '305', extensionId: park });
    expect(await routeCall(db, alice, '306')).toEqual({ kind: 'page', accountId, extensionId: paging, extensionNumber: '306' });
    // A direct number of a special extension reaches it from outside too.
    await db.insertInto('phone_numbers').values({ account_id: accountId, e164: '+14155550133', type: 'direct', extension_id: queue }).execute();
    expect(await routeCall(db, { kind: 'trunk', accountId, trunkId: 'x' }, '+14155550133')).toMatchObject({ kind: 'queue', extensionId: queue, direction: 'inbound' });
  });

  it('sends company numbers to the auto-receptionist once the account has an IVR menu, from outside and inside', async () => {
    // The previous test activated menu 304.
    expect(await routeCall(db, { kind: 'trunk', accountId, trunkId: 'x' }, '+14155550100')).toEqual({ kind: 'ivr', accountId, menuId: null, direction: 'inbound' });
    expect(await routeCall(db, alice, '+14155550100')).toEqual({ kind: 'ivr', accountId, menuId: null, direction: 'internal' });
    await db.updateTable('extensions').set({ status: 'disabled' }).where('account_id', '=', accountId).where('type', '=', 'ivr_menu').execute();
    expect(await routeCall(db, { kind: 'trunk', accountId, trunkId: 'x' }, '+14155550100')).toMatchObject({ kind: 'extension', extensionNumber: '101', direction: 'inbound' });
  });

  it('sends company numbers to the auto-receptionist with no menu at all where the company greeting answers (single level, area ivr)', async () => {
    // The previous test disabled every menu: without the flag the operator (101) answers, as before.
    const config = await loadAccountConfig(db, accountId);
    expect(await routeWith({ ...config!, companyGreeting: true }, { kind: 'trunk', accountId, trunkId: 'x' }, '+14155550100')).toEqual({ kind: 'ivr', accountId, menuId: null, direction: 'inbound' });
    expect(await routeWith({ ...config!, companyGreeting: true }, alice, '+14155550100')).toEqual({ kind: 'ivr', accountId, menuId: null, direction: 'internal' });
    expect(await routeWith(config, { kind: 'trunk', accountId, trunkId: 'x' }, '+14155550100')).toMatchObject({ kind: 'extension', extensionNumber: '101' });
  });

  it('reads the star codes of the spec: *84 + a paging group pages it, *58 + an extension picks its call up', async () => {
    expect(await routeCall(db, alice, '*84306')).toMatchObject({ kind: 'page', extensionNumber: '306' });
    expect(await routeCall(db, alice, '*84202')).toMatchObject({ kind: 'reject', status: 404, reason: 'Not A Paging Group' });
    expect(await routeCall(db, alice, '*84')).toMatchObject({ kind: 'reject', status: 484 });
    expect(await routeCall(db, alice, '*58202')).toMatchObject({ kind: 'pickup', accountId, target: '202', targetExtensionId: expect.any(String) });
    expect(await routeCall(db, alice, '*58999')).toMatchObject({ kind: 'reject', status: 404 });
    expect(await routeCall(db, alice, '*58')).toMatchObject({ kind: 'reject', status: 484 });
    expect(await routeCall(db, alice, '*77')).toMatchObject({ kind: 'reject', status: 404, reason: 'Unknown Feature Code' });
    // Star codes are a device's: a carrier's INVITE to "*84306" is no number of the account.
    expect(await routeCall(db, { kind: 'trunk', accountId, trunkId: 'x' }, '*84306')).toMatchObject({ kind: 'reject', status: 404 });
  });

  it('reads the monitoring codes: *81 listen, *82 whisper, *83 barge, *85 take over, each + a user\'s extension', async () => {
    for (const [code, mode] of [['*81', 'listen'], ['*82', 'whisper'], ['*83', 'barge'], ['*85', 'takeover']] as const) {
      expect(await routeCall(db, alice, `${code}202`)).toMatchObject({ kind: 'monitor', accountId, mode, target: '202', targetExtensionId: expect.any(String) });
    }
    // Only users are monitored: a paging group, an unknown extension or none at all is refused.
    expect(await routeCall(db, alice, '*81306')).toMatchObject({ kind: 'reject', status: 404, reason: 'Not A User To Monitor' });
    expect(await routeCall(db, alice, '*81999')).toMatchObject({ kind: 'reject', status: 404 });
    expect(await routeCall(db, alice, '*83')).toMatchObject({ kind: 'reject', status: 484 });
    expect(await routeCall(db, { kind: 'trunk', accountId, trunkId: 'x' }, '*81202')).toMatchObject({ kind: 'reject', status: 404 });
  });

  it("*86 reaches the caller's own mailbox where the engine allows it (unreleased area 'voicemail'); otherwise an unknown feature code as before", async () => {
    const config = await loadAccountConfig(db, accountId);
    expect(routeWith(config, alice, '*86')).toMatchObject({ kind: 'reject', status: 404, reason: 'Unknown Feature Code' });
    const withMailbox = config && { ...config, mailboxByPhone: true };
    expect(routeWith(withMailbox, alice, '*86')).toEqual({ kind: 'mailbox', accountId, extensionId: alice.extensionId });
    expect(routeWith(withMailbox, alice, '*861')).toMatchObject({ kind: 'reject', status: 404 });
    // A carrier cannot reach a mailbox by *86.
    expect(routeWith(withMailbox, { kind: 'trunk', accountId, trunkId: 'x' }, '*86')).toMatchObject({ kind: 'reject', status: 404 });
  });

  it("the caller's own extension from their own phone reaches their mailbox too, where *86 does; another's extension still rings it", async () => {
    const config = await loadAccountConfig(db, accountId);
    expect(routeWith(config, alice, '201')).toMatchObject({ kind: 'extension', extensionId: alice.extensionId });
    const withMailbox = config && { ...config, mailboxByPhone: true };
    expect(routeWith(withMailbox, alice, '201')).toEqual({ kind: 'mailbox', accountId, extensionId: alice.extensionId });
    expect(routeWith(withMailbox, alice, '202')).toMatchObject({ kind: 'extension', extensionId: bobExtensionId });
    // The same number at another site is another user's extension.
    expect(routeWith(withMailbox, alice, '22201')).toMatchObject({ kind: 'extension', extensionId: carolExtensionId });
  });

  it('calling back a message goes where the mailbox user would dial the number: an extension, or out within their rights with their caller ID; never to themself or an emergency number', async () => {
    const config = await loadAccountConfig(db, accountId);
    const withMailbox = config && { ...config, mailboxByPhone: true };
    const bob = { accountId, extensionId: bobExtensionId };
    expect(mailboxCallBackDestination(withMailbox, bob, '201')).toMatchObject({ kind: 'extension', extensionId: alice.extensionId, direction: 'internal' });
    expect(mailboxCallBackDestination(withMailbox, bob, '+33142685300')).toMatchObject({ kind: 'pstn', e164: '+33142685300', emergency: false, callerId: { number: '+14155550177' } });
    expect(mailboxCallBackDestination(withMailbox, bob, '202')).toBeNull();
    expect(mailboxCallBackDestination(withMailbox, bob, '+14155550177')).toBeNull();
    expect(mailboxCallBackDestination(withMailbox, bob, '911')).toBeNull();
    expect(mailboxCallBackDestination(withMailbox, bob, '*86')).toBeNull();
    // Carol may call her own country only: no call back abroad.
    const carol = { accountId, extensionId: carolExtensionId };
    expect(mailboxCallBackDestination(withMailbox, carol, '+33142685300')).toBeNull();
    expect(mailboxCallBackDestination(withMailbox, carol, '+12125550199')).toMatchObject({ kind: 'pstn', e164: '+12125550199', callerId: { number: '+14155550100' } });
    // Another account's mailbox gets nothing from this account's configuration.
    expect(mailboxCallBackDestination(withMailbox, { accountId: '00000000-0000-4000-8000-000000000000', extensionId: bobExtensionId }, '201')).toBeNull();
  });

  it("*45 / *46 (+ a queue's number) log the caller in and out of its queues where the engine allows it (unreleased area 'queues'); otherwise unknown feature codes", async () => {
    const config = await loadAccountConfig(db, accountId);
    expect(routeWith(config, alice, '*45')).toMatchObject({ kind: 'reject', status: 404, reason: 'Unknown Feature Code' });
    const withQueues = config && { ...config, queueAgentCodes: true };
    expect(routeWith(withQueues, alice, '*45')).toEqual({ kind: 'queue_login', accountId, extensionId: alice.extensionId, queueNumber: null, accepting: true });
    expect(routeWith(withQueues, alice, '*46600')).toEqual({ kind: 'queue_login', accountId, extensionId: alice.extensionId, queueNumber: '600', accepting: false });
    expect(routeWith(withQueues, alice, '*46#')).toMatchObject({ kind: 'reject', status: 404 });
    // A carrier cannot log an agent in or out.
    expect(routeWith(withQueues, { kind: 'trunk', accountId, trunkId: 'x' }, '*45')).toMatchObject({ kind: 'reject', status: 404 });
  });

  it("sends the conference dial-in numbers to the conference where the engine allows it (unreleased area 'conference'), from outside and inside; otherwise as any number", async () => {
    const config = await loadAccountConfig(db, accountId);
    const carrier = { kind: 'trunk' as const, accountId, trunkId: 'x' };
    expect(routeWith(config, carrier, '+14155550177')).toMatchObject({ kind: 'extension', extensionId: bobExtensionId });
    const withBridge = config && { ...config, conferenceNumbers: new Set(['+14155550177']) };
    const conference = { kind: 'conference', accountId, accessNumber: '+14155550177' };
    expect(routeWith(withBridge, carrier, '+14155550177')).toEqual(conference);
    expect(routeWith(withBridge, alice, '(415) 555-0177')).toEqual(conference);
    // Another number of the account routes as before.
    expect(routeWith(withBridge, carrier, '+14155550100')).not.toMatchObject({ kind: 'conference' });
  });

  it('routes nothing for a caller of another account', () => {
    return loadAccountConfig(db, accountId).then((config) => {
      expect(routeWith(config, { ...alice, accountId: '00000000-0000-4000-8000-000000000000' }, '202')).toMatchObject({ kind: 'reject', status: 404 });
      expect(routeWith(null, alice, '202')).toMatchObject({ kind: 'reject', status: 404 });
    });
  });
});

describe('shared lines (issue 15 point 3)', () => {
  it("route to the shared-line application and give a line's devices the group caller ID (SL-08) where the engine allows it (unreleased area 'shared_lines'); otherwise a line rings as a user", async () => {
    const actor = { userId: null, ip: null };
    await db.insertInto('phone_numbers').values({ account_id: accountId, e164: '+14155550166', type: 'direct', extension_id: null }).execute();
    const desk = await issueDeviceCredentials(db, actor, { accountId, extensionId: bobExtensionId, type: 'desk_phone', name: 'Front desk', realm: 'r' });
    const line = await createSharedLine(db, actor, accountId, { name: 'Front Desk', number: '650', deviceIds: [desk.deviceId] });
    const fromDesk: Caller = { kind: 'device', accountId, extensionId: bobExtensionId, deviceId: desk.deviceId };
    const loaded = (await loadAccountConfig(db, accountId))!;
    const withLines = async () => ({ ...(await loadAccountConfig(db, accountId))!, sharedLineCallerIds: await sharedLineGroupCallerIds(db, accountId) });
    // Without the area: the line's number rings like a user's extension, and the desk phone calls out with its user's number.
    expect(routeWith(loaded, alice, '650')).toMatchObject({ kind: 'extension', extensionId: line.id });
    expect(routeWith(loaded, fromDesk, '212 555 0199')).toMatchObject({ kind: 'pstn', callerId: { number: '+14155550177' } });
    // With it: the line's application; 'individual' caller ID keeps the user's number.
    expect(routeWith(await withLines(), alice, '650')).toMatchObject({ kind: 'shared_line', extensionId: line.id, extensionNumber: '650', direction: 'internal' });
    expect(routeWith(await withLines(), fromDesk, '212 555 0199')).toMatchObject({ kind: 'pstn', callerId: { number: '+14155550177' } });
    // 'group': the line's number and name, from its devices only.
    await updateSharedLine(db, actor, accountId, line.id, { settings: { ...DEFAULT_SHARED_LINE_SETTINGS, outboundCallerId: { mode: 'group', number: '+14155550166' } } });
    expect(routeWith(await withLines(), fromDesk, '212 555 0199')).toMatchObject({ kind: 'pstn', callerId: { number: '+14155550166', name: 'Front Desk' } });
    // Another phone (Alice's, her caller ID blocked by an earlier test) is not shown as the group.
    expect(routeWith(await withLines(), alice, '212 555 0199')).toMatchObject({ kind: 'pstn', callerId: { number: null } });
    // A disabled line is refused, and its devices call as themselves.
    await updateSharedLine(db, actor, accountId, line.id, { enabled: false });
    expect(routeWith(await withLines(), alice, '650')).toMatchObject({ kind: 'reject', status: 480 });
    expect(routeWith(await withLines(), fromDesk, '212 555 0199')).toMatchObject({ kind: 'pstn', callerId: { number: '+14155550177' } });
  });
});

describe('forwarding a user’s call to one of their numbers (issue 13)', () => {
  it('goes out through the trunk with the original caller ID, our number asserted as the one it is forwarded from; within the user’s rights; never back to our own numbers', async () => {
    const bob = { accountId, extensionId: bobExtensionId };
    await db.updateTable('users').set({ block_caller_id: false }).where('extension_id', '=', alice.extensionId).execute();
    const config = await loadAccountConfig(db, accountId);
    const outside = { number: '+12125550123', name: 'Outside', extensionId: null };
    expect(forwardingDestination(config, bob, '+12125550101', outside)).toMatchObject({
      kind: 'pstn',
      e164: '+12125550101',
      emergency: false,
      trunk: { dialString: '+12125550101', host: '127.0.0.1', port: 5090 },
      callerId: { number: '+12125550123', name: 'Outside' },
      forwardedFrom: '+14155550177',
    });
    // A caller's number as a trunk may send it (national) is given in E.164; a withheld one stays withheld.
    expect(forwardingDestination(config, bob, '+12125550101', { number: '2125550123', name: null, extensionId: null })?.callerId.number).toBe('+12125550123');
    expect(forwardingDestination(config, bob, '+12125550101', { number: null, name: null, extensionId: null })?.callerId).toEqual({ number: null, name: null });
    // An internal caller is shown by a number that means something outside (the main number; Alice has no direct number).
    expect(forwardingDestination(config, bob, '+12125550101', { number: '201', name: 'Alice', extensionId: alice.extensionId })?.callerId.number).toBe('+14155550100');
    // One who withholds their caller ID outside is withheld when forwarded too.
    await db.updateTable('users').set({ block_caller_id: true }).where('extension_id', '=', alice.extensionId).execute();
    expect(forwardingDestination(await loadAccountConfig(db, accountId), bob, '+12125550101', { number: '201', name: 'Alice', extensionId: alice.extensionId })?.callerId.number).toBeNull();
    // A carrier that refuses a From that is not ours: the trunk says so, and the user's number is shown.
    await db.updateTable('sip_trunks').set({ forward_caller_id: false }).where('account_id', '=', accountId).execute();
    expect(forwardingDestination(await loadAccountConfig(db, accountId), bob, '+12125550101', outside)).toMatchObject({ callerId: { number: '+14155550177' }, forwardedFrom: '+14155550177' });
    await db.updateTable('sip_trunks').set({ forward_caller_id: true }).where('account_id', '=', accountId).execute();
    // Bob may call abroad; a user allowed domestic calls only may not forward abroad.
    expect(forwardingDestination(config, bob, '+33142685300', outside)).toMatchObject({ e164: '+33142685300' });
    await db.updateTable('users').set({ outbound_calling: 'domestic' }).where('extension_id', '=', bobExtensionId).execute();
    const domestic = await loadAccountConfig(db, accountId);
    expect(forwardingDestination(domestic, bob, '+33142685300', outside)).toBeNull();
    expect(forwardingDestination(domestic, bob, '+12125550101', outside)).not.toBeNull();
    // One of the account's own numbers would come straight back in; another account's config is not used.
    expect(forwardingDestination(domestic, bob, '+14155550177', outside)).toBeNull();
    expect(forwardingDestination(domestic, { accountId: '00000000-0000-4000-8000-000000000000', extensionId: bobExtensionId }, '+12125550101', outside)).toBeNull();
    await db.updateTable('users').set({ outbound_calling: null }).where('extension_id', '=', bobExtensionId).execute();
  });
});

describe('an IVR key’s external transfer (issue 14)', () => {
  it('goes out through the trunk within the account’s calling permission (domestic): the original caller ID where the trunk allows it, else the menu’s or main number', async () => {
    const config = await loadAccountConfig(db, accountId);
    const outside = { number: '+12125550123', name: 'Outside', extensionId: null };
    const company = { accountId, menuId: null };
    // National digits as the menu stores them are dialled in E.164.
    expect(externalTransferDestination(config, company, '2125550101', outside)).toMatchObject({
      kind: 'pstn',
      e164: '+12125550101',
      emergency: false,
      trunk: { dialString: '+12125550101', host: '127.0.0.1', port: 5090 },
      callerId: { number: '+12125550123', name: 'Outside' },
      forwardedFrom: '+14155550100',
    });
    // Abroad, emergency numbers, the account's own numbers, another account: refused.
    expect(ACCOUNT_OUTBOUND_CALLING).toBe('domestic');
    expect(externalTransferDestination(config, company, '+33142685300', outside)).toBeNull();
    expect(externalTransferDestination(config, company, '911', outside)).toBeNull();
    expect(externalTransferDestination(config, company, '+14155550177', outside)).toBeNull();
    expect(externalTransferDestination(config, { accountId: '00000000-0000-4000-8000-000000000000', menuId: null }, '+12125550101', outside)).toBeNull();
    // A menu with a direct number of its own is the number shown where the trunk refuses a From that is not ours.
    await db.updateTable('sip_trunks').set({ forward_caller_id: false }).where('account_id', '=', accountId).execute();
    try {
      const strict = await loadAccountConfig(db, accountId);
      expect(externalTransferDestination(strict, company, '+12125550101', outside)).toMatchObject({ callerId: { number: '+14155550100', name: null } });
      expect(externalTransferDestination(strict, { accountId, menuId: bobExtensionId }, '+12125550101', outside)).toMatchObject({ callerId: { number: '+14155550177' }, forwardedFrom: '+14155550177' });
    } finally {
      await db.updateTable('sip_trunks').set({ forward_caller_id: true }).where('account_id', '=', accountId).execute();
    }
  });
});
