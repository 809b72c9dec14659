import { randomInt } from 'node:crypto';
import type { Db } from '@carillon/db';
import { DEFAULT_CONFERENCE_SETTINGS, newAccessCode, type ConferenceRole, type ConferenceSettings } from '@carillon/domain';
import { recordAudit, type AuditActor } from '../audit/record-audit.ts';

/**
 * The conference bridge's data (issue 16; inventory 1 §5.1–5.3), every function scoped to its
 * account: the dial-in numbers, each user's access codes (by the user's extension), and the host's
 * settings. The rules (code format, defaults, commands) are in @carillon/domain's conference.ts.
 */

export interface ConferenceCodes {
  host: string;
  participant: string;
}

/** A draw that meets another code of the account is drawn again; past this many the account's space is too crowded to go on. */
const CODE_DRAWS = 20;

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === '23505';

/** The extension is a user's of this account (codes and settings belong to users). */
async function userExtension(db: Db, accountId: string, extensionId: string): Promise<boolean> {
  const row = await db.selectFrom('users').select('id').where('account_id', '=', accountId).where('extension_id', '=', extensionId).executeTakeFirst();
  return row !== undefined;
}

/** Writes a fresh code for one role, drawing again when it meets another code of the account. */
async function drawCode(db: Db, accountId: string, extensionId: string, role: ConferenceRole): Promise<string> {
  for (let i = 0; i < CODE_DRAWS; i++) {
    const code = newAccessCode(randomInt);
    try {
      await db
        .insertInto('conference_access_codes')
        .values({ account_id: accountId, extension_id: extensionId, role, code })
        .onConflict((c) => c.columns(['extension_id', 'role']).doUpdateSet({ code, created_at: new Date() }))
        .execute();
      return code;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
  }
  throw new Error('no free conference access code after repeated draws');
}

/**
 * A user's host and participant codes, created on first read (every user has both, §5.1). Null when
 * the extension is not a user's of this account.
 */
export async function conferenceCodesOf(db: Db, accountId: string, extensionId: string): Promise<ConferenceCodes | null> {
  if (!(await userExtension(db, accountId, extensionId))) return null;
  const rows = await db.selectFrom('conference_access_codes').select(['role', 'code']).where('account_id', '=', accountId).where('extension_id', '=', extensionId).execute();
  const codes: Partial<ConferenceCodes> = Object.fromEntries(rows.map((r) => [r.role, r.code]));
  return {
    host: codes.host ?? (await drawCode(db, accountId, extensionId, 'host')),
    participant: codes.participant ?? (await drawCode(db, accountId, extensionId, 'participant')),
  };
}

/**
 * New codes on demand (a code given to the wrong people): the old ones stop working at once. The
 * audit trail says which were regenerated, never the codes.
 */
export async function regenerateConferenceCodes(db: Db, actor: AuditActor, accountId: string, extensionId: string, which: ConferenceRole | 'both' = 'both'): Promise<ConferenceCodes | null> {
  if (!(await userExtension(db, accountId, extensionId))) return null;
  for (const role of ['host', 'participant'] as const) if (which === 'both' || which === role) await drawCode(db, accountId, extensionId, role);
  await recordAudit(db, actor, { accountId, action: 'conference.codes_regenerated', targetType: 'extension', targetId: extensionId, after: { which } });
  return conferenceCodesOf(db, accountId, extensionId);
}

/** Whose conference an access code opens, in which role, with the host's settings; null for no such code in the account. */
export async function conferenceByAccessCode(db: Db, accountId: string, code: string): Promise<{ hostExtensionId: string; role: ConferenceRole; settings: ConferenceSettings } | null> {
  const row = await db
    .selectFrom('conference_access_codes as c')
    .leftJoin('conference_settings as s', 's.extension_id', 'c.extension_id')
    .select(['c.extension_id', 'c.role', 's.join_before_host', 's.enter_tone', 's.exit_tone', 's.announce_names'])
    .where('c.account_id', '=', accountId)
    .where('c.code', '=', code)
    .executeTakeFirst();
  if (!row) return null;
  return { hostExtensionId: row.extension_id, role: row.role, settings: settingsOfRow(row) };
}

function settingsOfRow(row: { join_before_host: boolean | null; enter_tone: boolean | null; exit_tone: boolean | null; announce_names: boolean | null }): ConferenceSettings {
  const d = DEFAULT_CONFERENCE_SETTINGS;
  return {
    joinBeforeHost: row.join_before_host ?? d.joinBeforeHost,
    enterTone: row.enter_tone ?? d.enterTone,
    exitTone: row.exit_tone ?? d.exitTone,
    announceNames: row.announce_names ?? d.announceNames,
  };
}

/** A host's settings (§5.2), the defaults when never saved. */
export async function conferenceSettingsOf(db: Db, accountId: string, extensionId: string): Promise<ConferenceSettings> {
  const row = await db
    .selectFrom('conference_settings')
    .select(['join_before_host', 'enter_tone', 'exit_tone', 'announce_names'])
    .where('account_id', '=', accountId)
    .where('extension_id', '=', extensionId)
    .executeTakeFirst();
  return row ? settingsOfRow(row) : { ...DEFAULT_CONFERENCE_SETTINGS };
}

export async function saveConferenceSettings(db: Db, actor: AuditActor, accountId: string, extensionId: string, settings: ConferenceSettings): Promise<boolean> {
  if (!(await userExtension(db, accountId, extensionId))) return false;
  const before = await conferenceSettingsOf(db, accountId, extensionId);
  const values = { join_before_host: settings.joinBeforeHost, enter_tone: settings.enterTone, exit_tone: settings.exitTone, announce_names: settings.announceNames };
  await db
    .insertInto('conference_settings')
    .values({ extension_id: extensionId, account_id: accountId, ...values })
    .onConflict((c) => c.column('extension_id').doUpdateSet({ ...values, updated_at: new Date() }))
    .execute();
  await recordAudit(db, actor, { accountId, action: 'conference.settings_saved', targetType: 'extension', targetId: extensionId, before, after: settings });
  return true;
}

/** The account's dial-in numbers (E.164), oldest first. */
export async function conferenceDialIns(db: Db, accountId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('conference_dial_ins as d')
    .innerJoin('phone_numbers as n', 'n.id', 'd.phone_number_id')
    .select('n.e164')
    .where('d.account_id', '=', accountId)
    .where('n.account_id', '=', accountId)
    .orderBy('d.created_at')
    .orderBy('n.e164')
    .execute();
  return rows.map((r) => r.e164);
}

/** Makes a number of the account a dial-in of its bridge (on) or not (off); false when the number is not the account's. */
export async function setConferenceDialIn(db: Db, actor: AuditActor, accountId: string, phoneNumberId: string, on: boolean): Promise<boolean> {
  const number = await db.selectFrom('phone_numbers').select(['id', 'e164']).where('account_id', '=', accountId).where('id', '=', phoneNumberId).executeTakeFirst();
  if (!number) return false;
  if (on) await db.insertInto('conference_dial_ins').values({ phone_number_id: number.id, account_id: accountId }).onConflict((c) => c.column('phone_number_id').doNothing()).execute();
  else await db.deleteFrom('conference_dial_ins').where('account_id', '=', accountId).where('phone_number_id', '=', number.id).execute();
  await recordAudit(db, actor, { accountId, action: on ? 'conference.dial_in_added' : 'conference.dial_in_removed', targetType: 'phone_number', targetId: number.id, after: { e164: number.e164 } });
  return true;
}
