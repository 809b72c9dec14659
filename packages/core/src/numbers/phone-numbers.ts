import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Database, PhoneNumberType } from '@carillon/db';
import { diffFields, recordAudit, type AuditActor } from '../audit/record-audit.ts';
import { NumberUnavailableError, type NumberProvider } from './number-provider.ts';
import { announceConfigChange } from '../accounts/config-changes.ts';

/** Seed 000 "Numéros de téléphone": the four tabs of the page. */
export const NUMBER_VIEWS = ['all', 'in_use', 'inventory', 'forwarded'] as const;
export type NumberView = (typeof NUMBER_VIEWS)[number];

const e164 = z
  .string()
  .trim()
  .transform((v) => v.replace(/[\s().-]/g, ''))
  .refine((v) => /^\+[1-9][0-9]{6,14}$/.test(v), 'invalid_e164');
const nickname = z
  .string()
  .trim()
  .max(60, 'too_long')
  .transform((v) => v || null)
  .nullable();

export const numberListQuery = z
  .object({
    view: z.enum(NUMBER_VIEWS).default('all'),
    q: z.string().trim().max(60).optional(),
  })
  .strict();

export const numberUpdateInput = z
  .object({
    nickname: nickname.optional(),
    /** null unassigns: the number goes back to the inventory. */
    extensionId: z.uuid('invalid').nullable().optional(),
    type: z.enum(['main', 'additional_company', 'direct', 'toll_free', 'fax']).optional(),
    faxCapable: z.boolean().optional(),
  })
  .strict();
export type NumberUpdate = z.infer<typeof numberUpdateInput>;

/** Seed 000 "Renvoi d'un numéro": a number kept at its carrier whose calls are forwarded here. */
export const forwardedNumberInput = z.object({ e164, extensionId: z.uuid('invalid').nullable().optional(), nickname: nickname.optional() }).strict();

export const poolSearchInput = z
  .object({
    country: z.string().trim().toUpperCase().regex(/^[A-Z]{2}$/, 'invalid').default('US'),
    areaCode: z.string().trim().regex(/^[0-9]{0,5}$/, 'invalid').optional().transform((v) => v || undefined),
    kind: z.enum(['local', 'toll_free']).default('local'),
    limit: z.coerce.number().int().min(1).max(50).default(10),
  })
  .strict();

export const reserveInput = z.object({ numbers: z.array(e164).min(1, 'required').max(25, 'too_many') }).strict();
export const purchaseInput = z
  .object({
    numbers: z.array(e164).min(1, 'required').max(25, 'too_many'),
    /** Absent: the numbers go to the inventory. */
    extensionId: z.uuid('invalid').nullable().optional(),
    nickname: nickname.optional(),
  })
  .strict();

export interface NumberRow {
  id: string;
  e164: string;
  type: PhoneNumberType;
  nickname: string | null;
  faxCapable: boolean;
  extensionId: string | null;
  extensionNumber: string | null;
  assignedTo: string | null;
  siteName: string | null;
  /** What the list shows: the inventory is every number not assigned to anything. */
  usage: 'company' | 'extension' | 'inventory' | 'forwarded';
}

function numberQuery(db: Kysely<Database>, accountId: string) {
  return db
    .selectFrom('phone_numbers')
    .leftJoin('extensions', (j) => j.onRef('extensions.id', '=', 'phone_numbers.extension_id').on('extensions.account_id', '=', accountId))
    .leftJoin('users', (j) => j.onRef('users.extension_id', '=', 'extensions.id').on('users.account_id', '=', accountId))
    .leftJoin('sites', (j) => j.on(sql<boolean>`sites.id = coalesce(extensions.site_id, phone_numbers.site_id)`).on('sites.account_id', '=', accountId))
    .select([
      'phone_numbers.id',
      'phone_numbers.e164',
      'phone_numbers.type',
      'phone_numbers.nickname',
      'phone_numbers.fax_capable as faxCapable',
      'phone_numbers.extension_id as extensionId',
      'extensions.number as extensionNumber',
      sql<string | null>`coalesce(nullif(trim(concat(users.first_name, ' ', users.last_name)), ''), extensions.name)`.as('assignedTo'),
      'sites.name as siteName',
    ])
    .where('phone_numbers.account_id', '=', accountId);
}

const usageOf = (r: { type: PhoneNumberType; extensionId: string | null }): NumberRow['usage'] =>
  r.type === 'forwarded' ? 'forwarded' : r.extensionId ? 'extension' : r.type === 'main' || r.type === 'additional_company' ? 'company' : 'inventory';

/** The numbers of one account in one of the page's views, searched by digits or nickname. */
export async function listNumbers(db: Kysely<Database>, accountId: string, q: z.infer<typeof numberListQuery>): Promise<NumberRow[]> {
  let query = numberQuery(db, accountId).orderBy('phone_numbers.e164');
  if (q.view === 'forwarded') query = query.where('phone_numbers.type', '=', 'forwarded');
  else if (q.view === 'in_use')
    query = query.where((eb) => eb.or([eb('phone_numbers.extension_id', 'is not', null), eb('phone_numbers.type', 'in', ['main', 'additional_company'])]));
  else if (q.view === 'inventory')
    query = query.where('phone_numbers.extension_id', 'is', null).where('phone_numbers.type', 'not in', ['main', 'additional_company', 'forwarded']);
  if (q.q) {
    const digits = q.q.replace(/\D/g, '');
    const text = `%${q.q.toLowerCase().replace(/[\\%_]/g, (c) => '\\' + c)}%`;
    query = query.where((eb) =>
      eb.or([eb(sql<string>`lower(coalesce(phone_numbers.nickname, ''))`, 'like', text), ...(digits ? [eb('phone_numbers.e164', 'like', `%${digits}%`)] : [])]),
    );
  }
  return (await query.execute()).map((r) => ({ ...r, usage: usageOf(r) }));
}

export async function getNumber(db: Kysely<Database>, accountId: string, id: string): Promise<NumberRow | null> {
  const r = await numberQuery(db, accountId).where('phone_numbers.id', '=', id).executeTakeFirst();
  return r ? { ...r, usage: usageOf(r) } : null;
}

export type NumberResult<T> = { ok: true; value: T } | { ok: false; status: 400 | 404 | 409; error: string; fields?: Record<string, string>; detail?: Record<string, unknown> };

async function extensionOf(db: Kysely<Database>, accountId: string, extensionId: string) {
  return db.selectFrom('extensions').select(['id', 'site_id']).where('account_id', '=', accountId).where('id', '=', extensionId).executeTakeFirst();
}

/** Nickname, assignment (or unassignment), type and fax capability of one number; audited. */
export async function updateNumber(db: Kysely<Database>, actor: AuditActor, accountId: string, id: string, input: NumberUpdate): Promise<NumberResult<NumberRow>> {
  const before = await getNumber(db, accountId, id);
  if (!before) return { ok: false, status: 404, error: 'not_found' };
  if (input.extensionId && !(await extensionOf(db, accountId, input.extensionId)))
    return { ok: false, status: 400, error: 'invalid_body', fields: { extensionId: 'extension_not_found' } };
  if (before.type === 'forwarded' && input.type) return { ok: false, status: 400, error: 'invalid_body', fields: { type: 'forwarded_number' } };
  await db.transaction().execute(async (trx) => {
    if (input.type === 'main' && before.type !== 'main') {
      // One main number per company: the former one stays a company number.
      await trx.updateTable('phone_numbers').set({ type: 'additional_company' }).where('account_id', '=', accountId).where('type', '=', 'main').execute();
      await trx.updateTable('accounts').set({ main_number: before.e164 }).where('id', '=', accountId).execute();
    }
    await trx
      .updateTable('phone_numbers')
      .set({
        ...(input.nickname !== undefined ? { nickname: input.nickname } : {}),
        ...(input.extensionId !== undefined ? { extension_id: input.extensionId } : {}),
        ...(input.type ? { type: input.type } : {}),
        ...(input.faxCapable !== undefined ? { fax_capable: input.faxCapable } : {}),
      })
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .execute();
  });
  await announceConfigChange(accountId, 'numbers');
  const after = (await getNumber(db, accountId, id))!;
  const pick = (n: NumberRow) => ({ nickname: n.nickname, extensionNumber: n.extensionNumber, assignedTo: n.assignedTo, type: n.type, faxCapable: n.faxCapable });
  const diff = diffFields(pick(before), pick(after));
  if (diff) {
    const action =
      input.extensionId !== undefined && before.extensionId !== after.extensionId ? (after.extensionId ? 'number.assigned' : 'number.unassigned') : 'number.updated';
    await recordAudit(db, actor, { accountId, action, targetType: 'phone_number', targetId: id, before: { e164: before.e164, ...diff.before }, after: { e164: after.e164, ...diff.after } });
  }
  return { ok: true, value: after };
}

export async function addForwardedNumber(db: Kysely<Database>, actor: AuditActor, accountId: string, input: z.infer<typeof forwardedNumberInput>): Promise<NumberResult<NumberRow>> {
  if (input.extensionId && !(await extensionOf(db, accountId, input.extensionId)))
    return { ok: false, status: 400, error: 'invalid_body', fields: { extensionId: 'extension_not_found' } };
  const row = await db
    .insertInto('phone_numbers')
    .values({ account_id: accountId, e164: input.e164, type: 'forwarded', extension_id: input.extensionId ?? null, nickname: input.nickname ?? null })
    .onConflict((oc) => oc.column('e164').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!row) return { ok: false, status: 409, error: 'number_exists', fields: { e164: 'number_exists' } };
  await recordAudit(db, actor, { accountId, action: 'number.forward_added', targetType: 'phone_number', targetId: row.id, after: { e164: input.e164, nickname: input.nickname ?? null } });
  await announceConfigChange(accountId, 'numbers');
  return { ok: true, value: (await getNumber(db, accountId, row.id))! };
}

export interface NumberQuota {
  licences: number;
  limit: number;
  used: number;
  reserved: number;
}

/**
 * Seed 003: "ajoutez 10 % de vos licences, puis ajoutez 10" (100 licences, 120 numbers).
 * Each user of the account holds one licence; forwarded numbers stay with their carrier and do not count.
 */
export async function numberQuota(db: Kysely<Database>, accountId: string, now: Date = new Date()): Promise<NumberQuota> {
  // One after the other: the embedded engine's socket server mixes up concurrent statements.
  const users = await db.selectFrom('users').select((eb) => eb.fn.countAll<string>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow();
  const owned = await db
    .selectFrom('phone_numbers')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('account_id', '=', accountId)
    .where('type', '<>', 'forwarded')
    .executeTakeFirstOrThrow();
  const held = await db
    .selectFrom('number_reservations')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('account_id', '=', accountId)
    .where('expires_at', '>', now)
    .executeTakeFirstOrThrow();
  const licences = Number(users.n);
  return { licences, limit: licences + Math.floor(licences / 10) + 10, used: Number(owned.n), reserved: Number(held.n) };
}

const quotaRefusal = (q: NumberQuota, asked: number): NumberResult<never> => ({
  ok: false,
  status: 409,
  error: 'quota_exceeded',
  detail: { limit: q.limit, licences: q.licences, used: q.used, reserved: q.reserved, asked },
});

const unavailable = (e: NumberUnavailableError): NumberResult<never> => ({ ok: false, status: 409, error: e.reason === 'taken' ? 'number_taken' : 'reservation_expired', detail: { numbers: e.numbers } });

/** Holds pool numbers for 10 minutes, within the quota counting numbers owned and already held. */
export async function reserveNumbers(db: Kysely<Database>, provider: NumberProvider, actor: AuditActor, accountId: string, e164s: string[], now = new Date()) {
  const numbers = [...new Set(e164s)];
  const quota = await numberQuota(db, accountId, now);
  const alreadyMine = (await provider.reservations(accountId)).filter((h) => numbers.includes(h.e164)).length;
  if (quota.used + quota.reserved + numbers.length - alreadyMine > quota.limit) return quotaRefusal(quota, numbers.length);
  try {
    const held = await provider.reserve(accountId, numbers);
    await recordAudit(db, actor, { accountId, action: 'number.reserved', targetType: 'phone_number', after: { numbers, expiresAt: held[0]?.expiresAt } });
    return { ok: true as const, value: held };
  } catch (e) {
    if (e instanceof NumberUnavailableError) return unavailable(e);
    throw e;
  }
}

export async function releaseNumbers(db: Kysely<Database>, provider: NumberProvider, actor: AuditActor, accountId: string, e164s: string[]): Promise<string[]> {
  const released = await provider.release(accountId, e164s);
  if (released.length) await recordAudit(db, actor, { accountId, action: 'number.released', targetType: 'phone_number', before: { numbers: released } });
  return released;
}

/** Buys held numbers into the account: to an extension (direct numbers) or to the inventory. */
export async function purchaseNumbers(
  db: Kysely<Database>,
  provider: NumberProvider,
  actor: AuditActor,
  accountId: string,
  input: z.infer<typeof purchaseInput>,
  now = new Date(),
): Promise<NumberResult<NumberRow[]>> {
  const numbers = [...new Set(input.numbers)];
  const ext = input.extensionId ? await extensionOf(db, accountId, input.extensionId) : null;
  if (input.extensionId && !ext) return { ok: false, status: 400, error: 'invalid_body', fields: { extensionId: 'extension_not_found' } };
  const quota = await numberQuota(db, accountId, now);
  if (quota.used + numbers.length > quota.limit) return quotaRefusal(quota, numbers.length);
  try {
    const ids = await db.transaction().execute(async (trx) => {
      const bought = await provider.purchase(trx, accountId, numbers);
      const rows = await trx
        .insertInto('phone_numbers')
        .values(
          bought.map((n) => ({
            account_id: accountId,
            e164: n.e164,
            type: n.kind === 'toll_free' ? ('toll_free' as const) : ('direct' as const),
            extension_id: ext?.id ?? null,
            site_id: ext?.site_id ?? null,
            nickname: input.nickname ?? null,
          })),
        )
        .returning(['id', 'e164'])
        .execute();
      for (const r of rows)
        await recordAudit(trx, actor, { accountId, action: 'number.purchased', targetType: 'phone_number', targetId: r.id, after: { e164: r.e164, extensionId: ext?.id ?? null, nickname: input.nickname ?? null } });
      return rows.map((r) => r.id);
    });
    await announceConfigChange(accountId, 'numbers');
    const rows = await listNumbers(db, accountId, { view: 'all' });
    return { ok: true, value: rows.filter((r) => ids.includes(r.id)) };
  } catch (e) {
    if (e instanceof NumberUnavailableError) return unavailable(e);
    throw e;
  }
}
