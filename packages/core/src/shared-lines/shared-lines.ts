import type { Kysely } from 'kysely';
import type { Database } from '@carillon/db';
import { DEFAULT_SHARED_LINE_SETTINGS, isTimeZone, newSharedLineInput, readSharedLineSettings, sharedLineUpdate, type NewSharedLineInput, type SharedLineSettings, type SharedLineUpdate } from '@carillon/domain';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { announceConfigChange } from '../accounts/config-changes.ts';

/**
 * Shared lines (issue 15 point 3; inventory 2 §12, SL-01…SL-09), stored (migration 0043): a line is an
 * extension of type `shared_lines` (number, name, site, status) with its `shared_lines` row (settings)
 * and its devices in order. Every query is scoped to the account; whoever calls the writers has checked
 * the right. Every change is audited and announced ('extensions') once committed, so media-server's next
 * call reads it.
 */
type Db = Kysely<Database>;

/** Shared lines of one account: a bound on what one account can create. */
export const MAX_SHARED_LINES = 200;

export class SharedLineError extends Error {
  readonly code: 'not_found' | 'number_taken' | 'bad_site' | 'bad_device' | 'device_in_other_line' | 'bad_extension' | 'bad_caller_id' | 'too_many_lines';
  constructor(code: SharedLineError['code'], detail?: string) {
    super(detail ? `${code}: ${detail}` : code);
    this.name = 'SharedLineError';
    this.code = code;
  }
}

export interface SharedLineDeviceView {
  deviceId: string;
  name: string;
  type: string;
  /** The extension the device registers under (a user's, or the line's own). */
  extensionNumber: string | null;
}

export interface SharedLineView {
  id: string;
  number: string;
  name: string | null;
  siteId: string;
  enabled: boolean;
  settings: SharedLineSettings;
  /** In the line's order (SL-02 "order of phone numbers"). */
  devices: SharedLineDeviceView[];
  /** Its direct numbers (E.164), as any extension's: the choices of the group caller ID. */
  directNumbers: string[];
}

/**
 * The devices must be the account's, each with an extension (a device is reached through its extension's
 * registrations), and not on another shared line (a device rings for one line: SL-08's caller ID and
 * SL-01's pickup must not be ambiguous).
 */
async function checkDevices(db: Db, accountId: string, lineId: string | null, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const rows = await db.selectFrom('devices').select('id').where('account_id', '=', accountId).where('id', 'in', ids).where('extension_id', 'is not', null).execute();
  if (rows.length !== ids.length) {
    const found = new Set(rows.map((r) => r.id));
    throw new SharedLineError('bad_device', `${ids.find((id) => !found.has(id))} is not a device of this account with an extension`);
  }
  let taken = db.selectFrom('shared_line_devices').select('device_id').where('account_id', '=', accountId).where('device_id', 'in', ids);
  if (lineId) taken = taken.where('line_extension_id', '!=', lineId);
  const other = await taken.executeTakeFirst();
  if (other) throw new SharedLineError('device_in_other_line', `${other.device_id} already rings for another shared line`);
}

/** Extensions the settings name (forward targets, message recipient) must be the account's; the group caller ID one of its numbers. */
async function checkSettings(db: Db, accountId: string, lineId: string, s: SharedLineSettings): Promise<void> {
  const numbers = [s.whenUnanswered.type === 'extension' ? s.whenUnanswered.extension : null, s.afterHours.type === 'extension' ? s.afterHours.extension : null, s.messageRecipient].filter((n): n is string => n !== null);
  if (numbers.length) {
    const rows = await db.selectFrom('extensions').select(['id', 'number']).where('account_id', '=', accountId).where('number', 'in', numbers).execute();
    for (const n of numbers) {
      const ext = rows.find((r) => r.number === n);
      if (!ext) throw new SharedLineError('bad_extension', `${n} is not an extension of this account`);
      if (ext.id === lineId && n !== s.messageRecipient) throw new SharedLineError('bad_extension', 'a shared line does not forward to itself');
    }
  }
  if (s.outboundCallerId.mode === 'group') {
    const own = await db.selectFrom('phone_numbers').select('id').where('account_id', '=', accountId).where('e164', '=', s.outboundCallerId.number).executeTakeFirst();
    if (!own) throw new SharedLineError('bad_caller_id', `${s.outboundCallerId.number} is not a number of this account`);
  }
}

async function replaceDevices(db: Db, accountId: string, lineId: string, ids: readonly string[]): Promise<void> {
  await checkDevices(db, accountId, lineId, ids);
  await db.deleteFrom('shared_line_devices').where('account_id', '=', accountId).where('line_extension_id', '=', lineId).execute();
  if (ids.length) await db.insertInto('shared_line_devices').values(ids.map((d, position) => ({ line_extension_id: lineId, device_id: d, account_id: accountId, position }))).execute();
}

async function numberTaken(db: Db, accountId: string, number: string, except: string | null): Promise<boolean> {
  let q = db.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('number', '=', number);
  if (except) q = q.where('id', '!=', except);
  return (await q.executeTakeFirst()) !== undefined;
}

async function siteOf(db: Db, accountId: string, siteId: string | null): Promise<string> {
  const site = siteId
    ? await db.selectFrom('sites').select('id').where('account_id', '=', accountId).where('id', '=', siteId).executeTakeFirst()
    : await db.selectFrom('sites').select('id').where('account_id', '=', accountId).where('is_main', '=', true).executeTakeFirst();
  if (!site) throw new SharedLineError('bad_site', 'not a site of this account');
  return site.id;
}

/**
 * SL-02: a new shared line (an extension) with its manager's e-mail and devices in order, and the
 * default settings (SL-09: taking messages on). The count and the insert run under a lock on the
 * account row, so that two admins cannot pass the bound or take one number.
 */
export async function createSharedLine(db: Db, actor: AuditActor, accountId: string, input: NewSharedLineInput): Promise<SharedLineView> {
  const data = newSharedLineInput.parse(input);
  const view = await db.transaction().execute(async (trx) => {
    await trx.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().executeTakeFirstOrThrow();
    const { count } = await trx.selectFrom('extensions').select((e) => e.fn.countAll<string>().as('count')).where('account_id', '=', accountId).where('type', '=', 'shared_lines').executeTakeFirstOrThrow();
    if (Number(count) >= MAX_SHARED_LINES) throw new SharedLineError('too_many_lines', `an account has at most ${MAX_SHARED_LINES} shared lines`);
    if (await numberTaken(trx, accountId, data.number, null)) throw new SharedLineError('number_taken', `extension ${data.number} already exists`);
    const siteId = await siteOf(trx, accountId, data.siteId);
    const ext = await trx
      .insertInto('extensions')
      .values({ account_id: accountId, site_id: siteId, number: data.number, type: 'shared_lines', status: 'activated', name: data.name })
      .returning('id')
      .executeTakeFirstOrThrow();
    const settings: SharedLineSettings = { ...DEFAULT_SHARED_LINE_SETTINGS, managerEmail: data.managerEmail };
    await trx.insertInto('shared_lines').values({ extension_id: ext.id, account_id: accountId, settings: JSON.stringify(settings) }).execute();
    await replaceDevices(trx, accountId, ext.id, data.deviceIds);
    const created = (await loadSharedLine(trx, accountId, ext.id))!;
    await recordAudit(trx, actor, { accountId, action: 'shared_line.created', targetType: 'extension', targetId: ext.id, after: auditView(created) });
    return created;
  });
  await announceConfigChange(accountId, 'extensions');
  return view;
}

/** SL-03: edits a line (number, name, site, status, devices, settings). Null when the line is not the account's. */
export async function updateSharedLine(db: Db, actor: AuditActor, accountId: string, lineId: string, input: SharedLineUpdate): Promise<SharedLineView | null> {
  const data = sharedLineUpdate.parse(input);
  const view = await db.transaction().execute(async (trx) => {
    const ext = await trx.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('id', '=', lineId).where('type', '=', 'shared_lines').forUpdate().executeTakeFirst();
    if (!ext) return null;
    const before = (await loadSharedLine(trx, accountId, lineId))!;
    if (data.number !== undefined && (await numberTaken(trx, accountId, data.number, lineId))) throw new SharedLineError('number_taken', `extension ${data.number} already exists`);
    const set = {
      ...(data.number !== undefined ? { number: data.number } : {}),
      ...(data.name !== undefined ? { name: data.name } : {}),
      ...(data.enabled !== undefined ? { status: data.enabled ? ('activated' as const) : ('disabled' as const) } : {}),
      ...(data.siteId !== undefined ? { site_id: await siteOf(trx, accountId, data.siteId) } : {}),
    };
    if (Object.keys(set).length) await trx.updateTable('extensions').set(set).where('account_id', '=', accountId).where('id', '=', lineId).execute();
    if (data.settings) {
      await checkSettings(trx, accountId, lineId, data.settings);
      await trx
        .insertInto('shared_lines')
        .values({ extension_id: lineId, account_id: accountId, settings: JSON.stringify(data.settings) })
        .onConflict((c) => c.column('extension_id').doUpdateSet({ settings: JSON.stringify(data.settings), updated_at: new Date() }))
        .execute();
    }
    if (data.deviceIds) await replaceDevices(trx, accountId, lineId, data.deviceIds);
    const after = (await loadSharedLine(trx, accountId, lineId))!;
    await recordAudit(trx, actor, { accountId, action: 'shared_line.updated', targetType: 'extension', targetId: lineId, before: auditView(before), after: auditView(after) });
    return after;
  });
  if (view) await announceConfigChange(accountId, 'extensions');
  return view;
}

/** Deletes a line: the extension goes, and its settings and device list with it (cascade). False when the line is not the account's. */
export async function deleteSharedLine(db: Db, actor: AuditActor, accountId: string, lineId: string): Promise<boolean> {
  const found = await db.transaction().execute(async (trx) => {
    const before = await loadSharedLine(trx, accountId, lineId);
    if (!before) return false;
    await trx.deleteFrom('extensions').where('account_id', '=', accountId).where('id', '=', lineId).where('type', '=', 'shared_lines').execute();
    await recordAudit(trx, actor, { accountId, action: 'shared_line.deleted', targetType: 'extension', targetId: lineId, before: auditView(before) });
    return true;
  });
  if (found) await announceConfigChange(accountId, 'extensions');
  return found;
}

const auditView = (l: SharedLineView) => ({ number: l.number, name: l.name, siteId: l.siteId, enabled: l.enabled, settings: l.settings, devices: l.devices.map((d) => d.deviceId) });

/** One line of the account, null when the extension is not a shared line of this account. Settings default when none are saved. */
export async function loadSharedLine(db: Db, accountId: string, lineId: string): Promise<SharedLineView | null> {
  const ext = await db
    .selectFrom('extensions')
    .leftJoin('shared_lines', 'shared_lines.extension_id', 'extensions.id')
    .select(['extensions.id', 'extensions.number', 'extensions.name', 'extensions.status', 'extensions.site_id', 'shared_lines.settings'])
    .where('extensions.account_id', '=', accountId)
    .where('extensions.id', '=', lineId)
    .where('extensions.type', '=', 'shared_lines')
    .executeTakeFirst();
  if (!ext) return null;
  const [devices, numbers] = await Promise.all([
    db
      .selectFrom('shared_line_devices as l')
      .innerJoin('devices as d', (j) => j.onRef('d.id', '=', 'l.device_id').onRef('d.account_id', '=', 'l.account_id'))
      .leftJoin('extensions as e', (j) => j.onRef('e.id', '=', 'd.extension_id').onRef('e.account_id', '=', 'd.account_id'))
      .select(['d.id as deviceId', 'd.name', 'd.type', 'e.number as extensionNumber'])
      .where('l.account_id', '=', accountId)
      .where('l.line_extension_id', '=', lineId)
      .orderBy('l.position')
      .execute(),
    db.selectFrom('phone_numbers').select('e164').where('account_id', '=', accountId).where('extension_id', '=', lineId).orderBy('created_at').orderBy('id').execute(),
  ]);
  return {
    id: ext.id,
    number: ext.number,
    name: ext.name,
    siteId: ext.site_id,
    enabled: ext.status !== 'disabled',
    settings: readSharedLineSettings(ext.settings),
    devices: devices.map((d) => ({ deviceId: d.deviceId, name: d.name, type: d.type, extensionNumber: d.extensionNumber ?? null })),
    directNumbers: numbers.map((n) => n.e164),
  };
}

/** SL-02 "Shared Lines" list (filter: Sites): the account's lines by number, of one site when `siteId` is given. */
export async function listSharedLines(db: Db, accountId: string, options: { siteId?: string } = {}): Promise<SharedLineView[]> {
  let q = db.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('type', '=', 'shared_lines');
  if (options.siteId) q = q.where('site_id', '=', options.siteId);
  const exts = await q.orderBy('number').limit(MAX_SHARED_LINES).execute();
  const lines = await Promise.all(exts.map((e) => loadSharedLine(db, accountId, e.id)));
  return lines.filter((l): l is SharedLineView => l !== null);
}

/** What a call to a line needs (media-server reads it at each call): its settings, the account's time zone, and its devices with the extensions they register under, in order. */
export interface SharedLineCallPlan {
  extensionId: string;
  number: string;
  name: string | null;
  settings: SharedLineSettings;
  timeZone: string;
  devices: { deviceId: string; extensionId: string; extensionNumber: string }[];
  /** SL-09: the mailbox messages go to: the line's own, or the recipient extension's (null when that extension is gone). */
  mailbox: { extensionId: string; extensionNumber: string } | null;
}

export async function sharedLineCallPlan(db: Db, accountId: string, lineId: string): Promise<SharedLineCallPlan | null> {
  const [line, account, devices] = await Promise.all([
    db
      .selectFrom('extensions')
      .leftJoin('shared_lines', 'shared_lines.extension_id', 'extensions.id')
      .select(['extensions.id', 'extensions.number', 'extensions.name', 'shared_lines.settings'])
      .where('extensions.account_id', '=', accountId)
      .where('extensions.id', '=', lineId)
      .where('extensions.type', '=', 'shared_lines')
      .executeTakeFirst(),
    db.selectFrom('accounts').select('time_zone').where('id', '=', accountId).executeTakeFirst(),
    db
      .selectFrom('shared_line_devices as l')
      .innerJoin('devices as d', (j) => j.onRef('d.id', '=', 'l.device_id').onRef('d.account_id', '=', 'l.account_id'))
      .innerJoin('extensions as e', (j) => j.onRef('e.id', '=', 'd.extension_id').onRef('e.account_id', '=', 'd.account_id'))
      .select(['d.id as deviceId', 'e.id as extensionId', 'e.number as extensionNumber'])
      .where('l.account_id', '=', accountId)
      .where('l.line_extension_id', '=', lineId)
      .orderBy('l.position')
      .execute(),
  ]);
  if (!line) return null;
  const timeZone = account && isTimeZone(account.time_zone) ? account.time_zone : 'UTC';
  const settings = readSharedLineSettings(line.settings);
  const recipient = settings.messageRecipient
    ? await db.selectFrom('extensions').select(['id', 'number']).where('account_id', '=', accountId).where('number', '=', settings.messageRecipient).executeTakeFirst()
    : { id: line.id, number: line.number };
  return { extensionId: line.id, number: line.number, name: line.name, settings, timeZone, devices, mailbox: recipient ? { extensionId: recipient.id, extensionNumber: recipient.number } : null };
}

/**
 * SL-08 "Outbound call displayed as: Group": the caller ID of each device of a line set so, by device id
 * (the line's chosen number and its name). media-server's routing snapshot holds it, so a call placed
 * from such a device shows the group rather than the device's or its user's number.
 */
export async function sharedLineGroupCallerIds(db: Db, accountId: string): Promise<Map<string, { number: string; name: string | null }>> {
  const rows = await db
    .selectFrom('shared_line_devices as l')
    .innerJoin('shared_lines as s', (j) => j.onRef('s.extension_id', '=', 'l.line_extension_id').onRef('s.account_id', '=', 'l.account_id'))
    .innerJoin('extensions as e', (j) => j.onRef('e.id', '=', 's.extension_id').onRef('e.account_id', '=', 's.account_id'))
    .select(['l.device_id', 's.settings', 'e.name', 'e.status'])
    .where('l.account_id', '=', accountId)
    .execute();
  const out = new Map<string, { number: string; name: string | null }>();
  for (const r of rows) {
    const callerId = readSharedLineSettings(r.settings).outboundCallerId;
    if (callerId.mode === 'group' && r.status !== 'disabled') out.set(r.device_id, { number: callerId.number, name: r.name });
  }
  return out;
}
