import fs from 'node:fs';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import type { Database, DndStatus } from '@carillon/db';
import {
  audioChoiceSchema,
  customUserRuleSchema,
  DEFAULT_CALL_SETTINGS,
  defaultRuleHandling,
  reconcileDevices,
  ruleConditionsSchema,
  ruleHandlingSchema,
  userCallSettingsSchema,
  type AudioChoice,
  type CustomUserRule,
  type RuleHandling,
  type UserAnswering,
  type UserCallSettings,
} from '@carillon/domain';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { announceConfigChange } from '../accounts/config-changes.ts';
import { callHandlingOf, userHoursOf } from '../users/user-settings.ts';

/**
 * A user's answering rules and call settings (issue 13, inventory 1 §7.5–7.6):
 * read as one document (domain's `UserAnswering`) and saved as one, in one
 * transaction, audited, and announced to media-server once committed. The
 * user edits their own from My Extension; an administrator of the user edits
 * them from the user's page. Whoever calls these has checked that right and
 * the tenant; every query here is also scoped to the account.
 */

export interface AnsweringDevice {
  id: string;
  name: string;
  type: string;
}

export interface UserAnsweringView {
  userId: string;
  /** The zone the hours and rules are read in: the user's, else the account's. */
  timeZone: string;
  dnd: DndStatus | null;
  /** The devices a ring plan may list: those of the user's extension. */
  devices: AnsweringDevice[];
  answering: UserAnswering;
}

type Db = Kysely<Database>;

async function ownerOf(db: Db, accountId: string, userId: string) {
  return db
    .selectFrom('users')
    .innerJoin('accounts', 'accounts.id', 'users.account_id')
    .leftJoin('extensions', (j) => j.onRef('extensions.id', '=', 'users.extension_id').onRef('extensions.account_id', '=', 'users.account_id'))
    .select(['users.id', 'users.extension_id', 'users.user_hours', 'users.call_handling', 'users.time_zone', 'accounts.time_zone as account_time_zone', 'extensions.dnd_status'])
    .where('users.account_id', '=', accountId)
    .where('users.id', '=', userId)
    .executeTakeFirst();
}

async function devicesOf(db: Db, accountId: string, extensionId: string | null): Promise<AnsweringDevice[]> {
  if (!extensionId) return [];
  return db.selectFrom('devices').select(['id', 'name', 'type']).where('account_id', '=', accountId).where('extension_id', '=', extensionId).orderBy('created_at').orderBy('id').execute();
}

/**
 * Stored JSON read through the schemas: a row written by an older version, or
 * by hand, that no longer parses gives the default rather than a broken page
 * or a call routed by half a rule.
 */
function handlingOf(stored: unknown, fallback: RuleHandling, deviceIds: string[]): RuleHandling {
  const parsed = ruleHandlingSchema.safeParse(stored);
  const handling = parsed.success ? parsed.data : fallback;
  return { ...handling, ringPlan: reconcileDevices(handling.ringPlan, deviceIds) };
}

export function callSettingsOf(stored: unknown): UserCallSettings {
  const parsed = userCallSettingsSchema.safeParse(stored);
  return parsed.success ? parsed.data : DEFAULT_CALL_SETTINGS;
}

/** The user's document, with defaults where nothing is saved yet (ring every device, then voicemail); null when not a user of the account. */
export async function readUserAnswering(db: Db, accountId: string, userId: string): Promise<UserAnsweringView | null> {
  const owner = await ownerOf(db, accountId, userId);
  if (!owner) return null;
  const devices = await devicesOf(db, accountId, owner.extension_id);
  const deviceIds = devices.map((d) => d.id);
  const rows = await db
    .selectFrom('answering_rules')
    .select(['id', 'kind', 'position', 'name', 'enabled', 'conditions', 'handling'])
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .orderBy('position')
    .orderBy('created_at')
    .execute();
  const settings = await db.selectFrom('user_call_settings').select('settings').where('account_id', '=', accountId).where('user_id', '=', userId).executeTakeFirst();
  // Until the user sets rules, the ring mode of their call-handling settings (templates set it) says how the phones ring.
  const mode = callHandlingOf(owner.call_handling).ringMode === 'simultaneous' ? 'simultaneous' : 'in_order';
  const fallback = defaultRuleHandling(deviceIds, mode);
  const custom: CustomUserRule[] = [];
  for (const r of rows.filter((row) => row.kind === 'custom')) {
    const conditions = ruleConditionsSchema.safeParse(r.conditions);
    const parsed = customUserRuleSchema.safeParse({ ...(r.handling as object), id: r.id, name: r.name ?? '', enabled: r.enabled, conditions: conditions.success ? conditions.data : [] });
    // A custom rule that no longer parses is kept, disabled, so the owner sees it and can fix or delete it.
    custom.push(parsed.success ? { ...parsed.data, ringPlan: reconcileDevices(parsed.data.ringPlan, deviceIds) } : { ...fallback, id: r.id, name: r.name || 'Rule', enabled: false, conditions: conditions.success ? conditions.data : [] });
  }
  return {
    userId: owner.id,
    timeZone: owner.time_zone ?? owner.account_time_zone,
    dnd: owner.dnd_status,
    devices,
    answering: {
      hours: userHoursOf(owner.user_hours),
      inHours: handlingOf(rows.find((r) => r.kind === 'in_hours')?.handling, fallback, deviceIds),
      afterHours: handlingOf(rows.find((r) => r.kind === 'after_hours')?.handling, fallback, deviceIds),
      custom,
      settings: callSettingsOf(settings?.settings),
    },
  };
}

export type SaveAnsweringResult = { ok: true; view: UserAnsweringView } | { ok: false; status: 400 | 404; error: string; fields?: Record<string, string> };

/** Every rule's handling with the path its fields have in the document. */
function handlings(doc: UserAnswering): [string, RuleHandling][] {
  return [['inHours', doc.inHours], ['afterHours', doc.afterHours], ...doc.custom.map((r, i): [string, RuleHandling] => [`custom.${i}`, r])];
}

/**
 * Checks what the schema cannot: every device of a ring plan is one of the
 * user's, an extension calls go to is another extension of the account, a
 * contact of a condition is the user's own, and a rule id names one of the
 * user's rules. Each problem is named by its field, as a bad body is.
 */
async function crossCheck(db: Db, accountId: string, userId: string, extensionId: string | null, doc: UserAnswering): Promise<Record<string, string>> {
  const fields: Record<string, string> = {};
  const deviceIds = new Set((await devicesOf(db, accountId, extensionId)).map((d) => d.id));
  const extensionIds = handlings(doc).flatMap(([, h]) => (h.afterRinging.type === 'extension' ? [h.afterRinging.extensionId] : []));
  const knownExtensions = new Set(
    extensionIds.length ? (await db.selectFrom('extensions').select('id').where('account_id', '=', accountId).where('id', 'in', extensionIds).execute()).map((e) => e.id) : [],
  );
  const contactIds = doc.custom.flatMap((r) => r.conditions.flatMap((c) => (c.type === 'caller_id' ? c.contactIds : [])));
  const knownContacts = new Set(
    contactIds.length
      ? (await db.selectFrom('contacts').select('id').where('account_id', '=', accountId).where('owner_user_id', '=', userId).where('id', 'in', contactIds).execute()).map((c) => c.id)
      : [],
  );
  const ruleIds = doc.custom.flatMap((r) => (r.id ? [r.id] : []));
  const knownRules = new Set(
    ruleIds.length
      ? (await db.selectFrom('answering_rules').select('id').where('account_id', '=', accountId).where('user_id', '=', userId).where('kind', '=', 'custom').where('id', 'in', ruleIds).execute()).map((r) => r.id)
      : [],
  );
  for (const [path, h] of handlings(doc)) {
    h.ringPlan.rows.forEach((row, i) => {
      if (row.target.kind === 'device' && !deviceIds.has(row.target.deviceId)) fields[`${path}.ringPlan.rows.${i}.target.deviceId`] = 'not a phone of this user';
    });
    if (h.afterRinging.type === 'extension') {
      if (h.afterRinging.extensionId === extensionId) fields[`${path}.afterRinging.extensionId`] = 'the user’s own extension: the call would come back here';
      else if (!knownExtensions.has(h.afterRinging.extensionId)) fields[`${path}.afterRinging.extensionId`] = 'no such extension';
    }
  }
  doc.custom.forEach((r, i) => {
    if (r.id && !knownRules.has(r.id)) fields[`custom.${i}.id`] = 'no such rule of this user';
    r.conditions.forEach((c, j) => {
      if (c.type === 'caller_id' && c.contactIds.some((id) => !knownContacts.has(id))) fields[`custom.${i}.conditions.${j}.contactIds`] = 'not a contact of this user';
    });
  });
  return fields;
}

/**
 * Greetings are set and reset only through the greeting routes (core/voicemail/greetings.ts): a
 * saved document keeps each rule's greeting as stored (a page open before an upload would otherwise
 * put the old one back, and a document could name another user's audio); a new rule starts with the
 * default one.
 */
function keepGreetings(doc: UserAnswering, stored: UserAnswering | null): UserAnswering {
  const byId = new Map((stored?.custom ?? []).flatMap((r) => (r.id ? [[r.id, r.greeting] as const] : [])));
  const fallback: AudioChoice = { source: 'default' };
  return {
    ...doc,
    inHours: { ...doc.inHours, greeting: stored?.inHours.greeting ?? fallback },
    afterHours: { ...doc.afterHours, greeting: stored?.afterHours.greeting ?? fallback },
    custom: doc.custom.map((r) => ({ ...r, greeting: (r.id && byId.get(r.id)) || fallback })),
  };
}

const handlingJson = (h: RuleHandling): string => JSON.stringify({ ringPlan: h.ringPlan, afterRinging: h.afterRinging, greeting: h.greeting, audioWhileConnecting: h.audioWhileConnecting });
/** A stored rule's new handling with the greeting it has in the row as the statement runs (a greeting uploaded since this save read the rules stays). */
const handlingKeepingGreeting = (h: RuleHandling) => sql<string>`jsonb_set(${handlingJson(h)}::jsonb, '{greeting}', coalesce(handling->'greeting', '{"source":"default"}'::jsonb))`;

/**
 * Replaces the user's answering document with `doc` (already parsed by
 * `userAnsweringSchema`). Nothing is written unless all of it is valid.
 * Custom rules keep their ids (so what refers to a rule stays with it), rules
 * left out are deleted, and the order is the order of the list.
 */
export async function saveUserAnswering(db: Db, actor: AuditActor, accountId: string, userId: string, sent: UserAnswering, options: { dataDir?: string } = {}): Promise<SaveAnsweringResult> {
  const owner = await ownerOf(db, accountId, userId);
  if (!owner) return { ok: false, status: 404, error: 'not_found' };
  const fields = await crossCheck(db, accountId, userId, owner.extension_id, sent);
  if (Object.keys(fields).length) return { ok: false, status: 400, error: 'invalid_body', fields };
  const before = await readUserAnswering(db, accountId, userId);
  const doc = keepGreetings(sent, before?.answering ?? null);
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('users').set({ user_hours: JSON.stringify(doc.hours) }).where('account_id', '=', accountId).where('id', '=', userId).execute();
    for (const [kind, h] of [['in_hours', doc.inHours], ['after_hours', doc.afterHours]] as const) {
      const updated = await trx
        .updateTable('answering_rules')
        .set({ handling: handlingKeepingGreeting(h), updated_at: new Date() })
        .where('account_id', '=', accountId)
        .where('user_id', '=', userId)
        .where('kind', '=', kind)
        .executeTakeFirst();
      if (updated.numUpdatedRows === 0n) await trx.insertInto('answering_rules').values({ account_id: accountId, user_id: userId, kind, handling: handlingJson(h) }).execute();
    }
    const kept = doc.custom.flatMap((r) => (r.id ? [r.id] : []));
    let remove = trx.deleteFrom('answering_rules').where('account_id', '=', accountId).where('user_id', '=', userId).where('kind', '=', 'custom');
    if (kept.length) remove = remove.where('id', 'not in', kept);
    await remove.execute();
    for (const [i, r] of doc.custom.entries()) {
      const values = { position: i + 1, name: r.name, enabled: r.enabled, conditions: JSON.stringify(r.conditions), handling: handlingJson(r), updated_at: new Date() };
      if (r.id) await trx.updateTable('answering_rules').set({ ...values, handling: handlingKeepingGreeting(r) }).where('account_id', '=', accountId).where('user_id', '=', userId).where('id', '=', r.id).execute();
      else await trx.insertInto('answering_rules').values({ account_id: accountId, user_id: userId, kind: 'custom', ...values }).execute();
    }
    const settings = JSON.stringify(doc.settings);
    await trx
      .insertInto('user_call_settings')
      .values({ user_id: userId, account_id: accountId, settings })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ settings, updated_at: new Date() }))
      .execute();
    await recordAudit(trx, actor, {
      accountId,
      action: 'user.answering_rules_changed',
      targetType: 'user',
      targetId: userId,
      before: before?.answering,
      after: doc,
    });
  });
  // After the commit: a node that reloaded before it would cache the old rules again.
  await announceConfigChange(accountId, 'answering_rules');
  // The greetings of the custom rules deleted here.
  if (options.dataDir) await removeUnusedGreetings(db, options.dataDir, accountId, userId);
  const view = await readUserAnswering(db, accountId, userId);
  return view ? { ok: true, view } : { ok: false, status: 404, error: 'not_found' };
}

/**
 * Removes the user's greetings that no rule names any more (replaced, reset, or their custom
 * rule deleted), rows then files. A greeting is stored and named by its rule in one transaction,
 * so a greeting being uploaded is never taken for an unused one.
 */
export async function removeUnusedGreetings(db: Db, dataDir: string, accountId: string, userId: string): Promise<void> {
  const rules = await db.selectFrom('answering_rules').select('handling').where('account_id', '=', accountId).where('user_id', '=', userId).execute();
  const named = new Set(
    rules.flatMap((r) => {
      const g = audioChoiceSchema.safeParse((r.handling as { greeting?: unknown } | null)?.greeting);
      return g.success && g.data.source === 'custom' ? [g.data.audioId] : [];
    }),
  );
  const greetings = await db.selectFrom('voicemail_greetings').select(['id', 'file']).where('account_id', '=', accountId).where('user_id', '=', userId).execute();
  const unused = greetings.filter((g) => !named.has(g.id));
  if (!unused.length) return;
  await db
    .deleteFrom('voicemail_greetings')
    .where('account_id', '=', accountId)
    .where('id', 'in', unused.map((g) => g.id))
    .execute();
  for (const g of unused) fs.rmSync(path.join(dataDir, g.file), { force: true });
}
