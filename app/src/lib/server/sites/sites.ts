import { z } from 'zod';
import type { Kysely } from 'kysely';
import { announceConfigChange, recordAudit, type AuditActor } from '@carillon/core';
import type { Database } from '@carillon/db';

/** F000 12.10: the full extension (site code + short extension) has at most this many digits. */
export const MAX_EXTENSION_LENGTH = 5;

export interface SiteView {
  id: string;
  name: string;
  siteCode: string | null;
  isMain: boolean;
  callerIdName: string | null;
}

export const siteInput = z
  .object({
    name: z.string().trim().min(1).max(80),
    siteCode: z
      .string()
      .trim()
      .regex(/^[0-9]{1,4}$/, '1 to 4 digits')
      .nullable()
      .default(null),
    // F000 12.9: at most 15 characters; empty inherits the company's caller ID name.
    callerIdName: z
      .string()
      .trim()
      .max(15, 'at most 15 characters')
      .transform((v) => v || null)
      .nullable()
      .default(null),
  })
  .strict();
export const sitePatch = siteInput.partial().strict();

/** Why an extension cannot take a site code (F000 12.10's "type of conflict"). */
export interface SiteCodeConflict {
  extensionId: string;
  number: string;
  fullNumber: string;
  conflict: 'too_long' | 'duplicate';
}

export class SiteError extends Error {
  readonly code: 'site_code_taken' | 'site_code_conflicts' | 'main_site';
  readonly conflicts: SiteCodeConflict[];
  constructor(code: SiteError['code'], conflicts: SiteCodeConflict[] = []) {
    super(code);
    this.code = code;
    this.conflicts = conflicts;
  }
}

const view = (r: { id: string; name: string; site_code: string | null; is_main: boolean; caller_id_name: string | null }): SiteView => ({
  id: r.id,
  name: r.name,
  siteCode: r.site_code,
  isMain: r.is_main,
  callerIdName: r.caller_id_name,
});

const columns = ['id', 'name', 'site_code', 'is_main', 'caller_id_name'] as const;

export async function listSites(db: Kysely<Database>, accountId: string): Promise<SiteView[]> {
  const rows = await db.selectFrom('sites').select(columns).where('account_id', '=', accountId).orderBy('is_main', 'desc').orderBy('name').execute();
  return rows.map(view);
}

export async function getSite(db: Kysely<Database>, accountId: string, id: string): Promise<SiteView | null> {
  const row = await db.selectFrom('sites').select(columns).where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  return row ? view(row) : null;
}

/**
 * What giving `siteCode` to a site would break: its extensions whose full number would be too long,
 * or would be dialled the same as another extension of the account (another site's full number, or
 * a short number of a site without code, which is dialled as is).
 */
export async function siteCodeConflicts(db: Kysely<Database>, accountId: string, siteId: string | null, siteCode: string): Promise<SiteCodeConflict[]> {
  const rows = await db
    .selectFrom('extensions')
    .innerJoin('sites', 'sites.id', 'extensions.site_id')
    .select(['extensions.id', 'extensions.number', 'extensions.site_id', 'sites.site_code'])
    .where('extensions.account_id', '=', accountId)
    .execute();
  const dialledElsewhere = new Set(rows.filter((r) => r.site_id !== siteId).map((r) => (r.site_code ?? '') + r.number));
  const conflicts: SiteCodeConflict[] = [];
  for (const r of rows.filter((x) => x.site_id === siteId)) {
    const fullNumber = siteCode + r.number;
    if (fullNumber.length > MAX_EXTENSION_LENGTH) conflicts.push({ extensionId: r.id, number: r.number, fullNumber, conflict: 'too_long' });
    else if (dialledElsewhere.has(fullNumber)) conflicts.push({ extensionId: r.id, number: r.number, fullNumber, conflict: 'duplicate' });
  }
  return conflicts;
}

async function assertCodeFree(db: Kysely<Database>, accountId: string, siteId: string | null, siteCode: string | null): Promise<void> {
  if (siteCode === null) return;
  const taken = await db.selectFrom('sites').select('id').where('account_id', '=', accountId).where('site_code', '=', siteCode).executeTakeFirst();
  if (taken && taken.id !== siteId) throw new SiteError('site_code_taken');
  const conflicts = await siteCodeConflicts(db, accountId, siteId, siteCode);
  if (conflicts.length) throw new SiteError('site_code_conflicts', conflicts);
}

export async function createSite(db: Kysely<Database>, actor: AuditActor, accountId: string, input: z.output<typeof siteInput>): Promise<SiteView> {
  return db.transaction().execute(async (trx) => {
    await assertCodeFree(trx, accountId, null, input.siteCode);
    const row = await trx
      .insertInto('sites')
      .values({ account_id: accountId, name: input.name, site_code: input.siteCode, caller_id_name: input.callerIdName })
      .returning(columns)
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, { accountId, action: 'site.created', targetType: 'site', targetId: row.id, after: view(row) });
    return view(row);
  });
}

/** Null when the site is not this account's. */
export async function updateSite(db: Kysely<Database>, actor: AuditActor, accountId: string, id: string, patch: z.output<typeof sitePatch>): Promise<SiteView | null> {
  const updated = await db.transaction().execute(async (trx) => {
    const before = await getSite(trx, accountId, id);
    if (!before) return null;
    // The main site's extensions are the short numbers everyone dials: it keeps no code (F000 12.10).
    if (before.isMain && patch.siteCode) throw new SiteError('main_site');
    if (patch.siteCode !== undefined && patch.siteCode !== before.siteCode) await assertCodeFree(trx, accountId, id, patch.siteCode);
    const row = await trx
      .updateTable('sites')
      .set({
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.siteCode !== undefined ? { site_code: patch.siteCode } : {}),
        ...(patch.callerIdName !== undefined ? { caller_id_name: patch.callerIdName } : {}),
      })
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .returning(columns)
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, { accountId, action: 'site.updated', targetType: 'site', targetId: id, before, after: view(row) });
    return view(row);
  });
  // A site code is how the site's extensions are dialled in full (routing, cached by media-server).
  if (updated && patch.siteCode !== undefined) await announceConfigChange(accountId, 'sites');
  return updated;
}
