import { z } from 'zod';
import {
  announceConfigChange,
  credentialsInput,
  defaultRoleIdFor,
  DuplicateMacError,
  issueDeviceCredentials,
  recordAudit,
  refuseGrant,
  stepSchemas,
  storeCredentials,
  validateCredentials,
  type AuditActor,
  type Granter,
  type IssuedSipCredentials,
} from '@carillon/core';
import { sql, type Db } from '@carillon/db';
import { MAX_EXTENSION_LENGTH } from '../sites/sites.ts';
import type { Runtime } from '../runtime.ts';
import { inviteUser } from './invitations.ts';

/**
 * The Add Users wizard (seed 000 "Ajout d'utilisateurs avec des appareils",
 * "Ajout d'utilisateurs gratuits", "Configuration des utilisateurs"): up to 25
 * users at once, office users (extension, phone, number) or free users
 * (extension only), onboarded by invitation, by credentials set now, or later.
 *
 * Each row is checked on its own and created in a transaction of its own: a
 * bad row is answered with its row, field and reason and creates nothing,
 * and the good rows are created.
 */
export const MAX_USERS_PER_BATCH = 25;

/** The number inventory: numbers a user can hold (not the company's main or forwarded numbers) that nobody holds. */
const INVENTORY_TYPES = ['direct', 'additional_company', 'fax', 'toll_free'] as const;

const deviceChoice = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('softphone') }).strict(),
  z.object({ kind: z.literal('inventory'), deviceId: z.uuid('required') }).strict(),
  z
    .object({
      kind: z.literal('byod'),
      name: z.string().trim().min(1, 'required').max(80, 'too_long'),
      mac: z
        .string()
        .trim()
        .transform((v) => v.toUpperCase().replace(/[^0-9A-F]/g, ''))
        .refine((v) => v === '' || v.length === 12, 'invalid_mac')
        .transform((v) => v || null)
        .optional(),
    })
    .strict(),
]);

const emptyToUndefined = (v: unknown) => (v === '' || v === null ? undefined : v);

export const userRow = z
  .object({
    email: z.email('invalid_email').max(254, 'too_long'),
    firstName: z.string().trim().min(1, 'required').max(60, 'too_long'),
    lastName: z.string().trim().max(60, 'too_long').default(''),
    department: z.preprocess(emptyToUndefined, z.string().trim().max(60, 'too_long').optional()),
    siteId: z.preprocess(emptyToUndefined, z.uuid('invalid').optional()),
    /** Typed in, or empty for the next free one. */
    extension: z.preprocess(emptyToUndefined, z.string().trim().regex(/^[0-9]{1,5}$/, 'invalid_extension').optional()),
    /** A number of the inventory (the account's, assigned to no extension). */
    numberId: z.preprocess(emptyToUndefined, z.uuid('invalid').optional()),
    device: deviceChoice.optional(),
    emergencyAddress: stepSchemas.emergency.optional(),
  })
  .strict();
export type UserRow = z.output<typeof userRow>;

export const addUsersRequest = z
  .object({
    userType: z.enum(['office', 'free']),
    onboarding: z.enum(['invite', 'credentials', 'later']),
    /** Seed 000: checked by default; unchecked, e-mails may repeat and nobody can be invited by e-mail. */
    requireUniqueEmail: z.boolean().default(true),
    credentials: credentialsInput.optional(),
    /** The "Missing emergency address → Yes" answer: those users enter it at their first sign-in. */
    continueWithoutEmergencyAddress: z.boolean().default(false),
    rows: z.array(z.unknown()).min(1, 'at least one user').max(MAX_USERS_PER_BATCH, `at most ${MAX_USERS_PER_BATCH} users per batch`),
  })
  .strict()
  .refine((b) => b.onboarding !== 'credentials' || b.credentials !== undefined, { path: ['credentials'], message: 'required' })
  .refine((b) => b.onboarding !== 'invite' || b.requireUniqueEmail, { path: ['requireUniqueEmail'], message: 'invitations need unique e-mail addresses' });
export type AddUsersRequest = z.output<typeof addUsersRequest>;

export interface RowError {
  /** 1-based, as the admin counts the rows of the form. */
  row: number;
  field: string;
  reason: string;
}

export interface CreatedUser {
  row: number;
  userId: string;
  email: string;
  extension: string;
  fullExtension: string;
  number: string | null;
  invited: boolean;
  /** Bring your own device: shown once, to be typed into the phone. */
  sipCredentials?: { username: string; password: string };
}

class RowRefused extends Error {
  readonly field: string;
  readonly reason: string;
  constructor(field: string, reason: string) {
    super(reason);
    this.field = field;
    this.reason = reason;
  }
}

/** Our own codes come through as the message; zod's defaults are mapped by kind. */
function rowErrors(row: number, error: z.ZodError): RowError[] {
  const seen = new Set<string>();
  const out: RowError[] = [];
  for (const issue of error.issues) {
    const field = issue.path.join('.') || ('keys' in issue ? issue.keys.join(',') : '_');
    if (seen.has(field)) continue;
    seen.add(field);
    const reason = /^[a-z_]+$/.test(issue.message) ? issue.message : issue.code === 'too_big' ? 'too_long' : issue.code === 'unrecognized_keys' ? 'unknown_field' : 'invalid';
    out.push({ row, field, reason });
  }
  return out;
}

interface SiteInfo {
  id: string;
  code: string;
  isMain: boolean;
}

/** Checks every row, then creates the good ones; invitations are queued once their user is committed. */
export async function addUsers(rt: Runtime, granter: Granter, actor: AuditActor, req: AddUsersRequest): Promise<{ created: CreatedUser[]; errors: RowError[] }> {
  const db = rt.db;
  const accountId = granter.accountId;
  const errors: RowError[] = [];
  const sites = new Map<string, SiteInfo>(
    (await db.selectFrom('sites').select(['id', 'site_code', 'is_main']).where('account_id', '=', accountId).execute()).map((s) => [s.id, { id: s.id, code: s.site_code ?? '', isMain: s.is_main }]),
  );
  const mainSite = [...sites.values()].find((s) => s.isMain) ?? [...sites.values()][0]!;

  // 1. Each row alone.
  const valid: { row: number; data: UserRow; site: SiteInfo }[] = [];
  req.rows.forEach((raw, i) => {
    const row = i + 1;
    const parsed = userRow.safeParse(raw);
    if (!parsed.success) return void errors.push(...rowErrors(row, parsed.error));
    const data = parsed.data;
    const site = data.siteId ? sites.get(data.siteId) : mainSite;
    if (!site) return void errors.push({ row, field: 'siteId', reason: 'not_found' });
    if (req.userType === 'free') {
      // Seed 000: free users have neither phone nor number, so no emergency address either.
      if (data.numberId) return void errors.push({ row, field: 'numberId', reason: 'not_for_free_users' });
      if (data.device && data.device.kind !== 'softphone') return void errors.push({ row, field: 'device', reason: 'not_for_free_users' });
      if (data.emergencyAddress) return void errors.push({ row, field: 'emergencyAddress', reason: 'not_for_free_users' });
    } else if (req.onboarding === 'credentials' && !data.emergencyAddress && !req.continueWithoutEmergencyAddress) {
      return void errors.push({ row, field: 'emergencyAddress', reason: 'missing_emergency_address' });
    }
    if (data.extension && (site.code + data.extension).length > MAX_EXTENSION_LENGTH) return void errors.push({ row, field: 'extension', reason: 'too_long' });
    valid.push({ row, data, site });
  });

  // 2. Rows against each other: the first of two claims keeps it.
  const claims = new Map<string, number>();
  const claim = (key: string, row: number, field: string): boolean => {
    const first = claims.get(key);
    if (first === undefined) return claims.set(key, row), true;
    errors.push({ row, field, reason: `duplicate_of_row_${first}` });
    return false;
  };
  const checked = valid.filter(({ row, data, site }) => {
    if (req.requireUniqueEmail && !claim(`email:${data.email.toLowerCase()}`, row, 'email')) return false;
    if (data.extension && !claim(`ext:${site.code}${data.extension}`, row, 'extension')) return false;
    if (data.numberId && !claim(`number:${data.numberId}`, row, 'numberId')) return false;
    if (data.device?.kind === 'inventory' && !claim(`device:${data.device.deviceId}`, row, 'device.deviceId')) return false;
    return true;
  });
  // Extensions typed in later rows are not handed out to earlier rows that asked for the next free one.
  const reserved = new Set(checked.filter((r) => r.data.extension).map((r) => r.site.code + r.data.extension));

  // 3. Each good row against the account, and created.
  const roleId = await defaultRoleIdFor(db, accountId);
  // New users get the account's default role: an admin who could not grant it may not create them.
  const refused = await refuseGrant(db, granter, { roleId });
  if (refused) {
    errors.push(...checked.map(({ row }) => ({ row, field: 'role', reason: refused.reason })));
    return { created: [], errors: errors.sort((a, b) => a.row - b.row) };
  }
  const account = await db.selectFrom('accounts').select(['company_name', 'main_number']).where('id', '=', accountId).executeTakeFirstOrThrow();
  const taken = await dialledExtensions(db, accountId);
  const created: CreatedUser[] = [];
  for (const r of checked) {
    try {
      const user = await createOne(db, rt.config.SIP_DOMAIN, accountId, actor, req, r, { roleId, reserved, taken, account });
      reserved.add(user.fullExtension);
      if (req.onboarding === 'invite') {
        try {
          await inviteUser(rt, actor, accountId, user.userId);
          user.invited = true;
        } catch (err) {
          // The user exists; "Send invite" from the Users list tries again.
          rt.log.warn('invitation not queued', { error: err as Error, userId: user.userId });
        }
      }
      created.push(user);
    } catch (err) {
      if (!(err instanceof RowRefused)) throw err;
      errors.push({ row: r.row, field: err.field, reason: err.reason });
    }
  }
  errors.sort((a, b) => a.row - b.row);
  // New extensions, and phones from the inventory given to them.
  if (created.length) await announceConfigChange(accountId, 'extensions', 'devices');
  return { created, errors };
}

async function createOne(
  db: Db,
  realm: string,
  accountId: string,
  actor: AuditActor,
  req: AddUsersRequest,
  { row, data, site }: { row: number; data: UserRow; site: SiteInfo },
  ctx: { roleId: string; reserved: Set<string>; taken: Set<string>; account: { company_name: string; main_number: string | null } },
): Promise<CreatedUser> {
  return db.transaction().execute(async (trx) => {
    // Serialises user creation in the account, so two admins cannot take the same extension or number.
    await trx.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().executeTakeFirst();
    if (req.requireUniqueEmail) {
      const clash = await trx.selectFrom('users').select('id').where(sql`lower(email)`, '=', data.email.toLowerCase()).where('email_login', '=', true).executeTakeFirst();
      if (clash) throw new RowRefused('email', 'email_taken');
    }
    // The extensions read once for the batch only suggest a number; under the lock, the one chosen is checked again.
    const dialledNow = async (full: string) =>
      Boolean(
        await trx
          .selectFrom('extensions')
          .innerJoin('sites', 'sites.id', 'extensions.site_id')
          .select('extensions.id')
          .where('extensions.account_id', '=', accountId)
          .where(sql`coalesce(sites.site_code, '') || extensions.number`, '=', full)
          .executeTakeFirst(),
      );
    if (data.extension && (await dialledNow(site.code + data.extension))) throw new RowRefused('extension', 'extension_taken');
    let number = data.extension ?? null;
    while (!number) {
      const candidate = nextFreeExtension(site.code, (full) => ctx.taken.has(full) || ctx.reserved.has(full));
      if (!candidate) throw new RowRefused('extension', 'no_free_extension');
      if (!(await dialledNow(site.code + candidate))) number = candidate;
      else ctx.taken.add(site.code + candidate); // taken since the batch began
    }
    const fullExtension = site.code + number;

    const phoneNumber = data.numberId
      ? await trx.selectFrom('phone_numbers').select(['id', 'e164', 'extension_id']).where('account_id', '=', accountId).where('id', '=', data.numberId).where('type', 'in', INVENTORY_TYPES).executeTakeFirst()
      : undefined;
    if (data.numberId && !phoneNumber) throw new RowRefused('numberId', 'not_found');
    if (phoneNumber?.extension_id) throw new RowRefused('numberId', 'in_use');
    const device = data.device?.kind === 'inventory'
      ? await trx.selectFrom('devices').select(['id', 'name', 'extension_id']).where('account_id', '=', accountId).where('id', '=', data.device.deviceId).executeTakeFirst()
      : undefined;
    if (data.device?.kind === 'inventory' && !device) throw new RowRefused('device.deviceId', 'not_found');
    if (device?.extension_id) throw new RowRefused('device.deviceId', 'in_use');

    if (req.onboarding === 'credentials') {
      const problems = validateCredentials(req.credentials!, {
        firstName: data.firstName,
        lastName: data.lastName,
        email: data.email,
        extension: number,
        companyName: ctx.account.company_name,
        phoneNumbers: [ctx.account.main_number, phoneNumber?.e164 ?? null],
      });
      if (problems) {
        const [field, rules] = Object.entries(problems)[0]!;
        throw new RowRefused(`credentials.${field}`, (rules as string[]).join(','));
      }
    }

    const ext = await trx
      .insertInto('extensions')
      .values({ account_id: accountId, site_id: site.id, number, type: 'user', status: req.onboarding === 'credentials' ? 'activated' : 'not_activated' })
      .returning('id')
      .executeTakeFirstOrThrow();
    // Skipped on purpose: the user is asked for it at first sign-in (seed 000 "Adresse d'urgence manquante").
    const needsAddress = req.userType === 'office' && !data.emergencyAddress;
    const user = await trx
      .insertInto('users')
      .values({
        account_id: accountId,
        extension_id: ext.id,
        role_id: ctx.roleId,
        first_name: data.firstName,
        last_name: data.lastName,
        email: data.email,
        email_login: req.requireUniqueEmail,
        department: data.department ?? null,
        setup_progress: JSON.stringify(needsAddress ? { emergencyAddressRequired: true } : {}),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (req.onboarding === 'credentials') await storeCredentials(trx, user.id, req.credentials!);
    else await trx.insertInto('user_credentials').values({ user_id: user.id }).execute();

    let addressId: string | null = null;
    if (data.emergencyAddress) {
      const a = data.emergencyAddress;
      addressId = (
        await trx
          .insertInto('emergency_addresses')
          .values({ account_id: accountId, user_id: user.id, name: a.name, country: a.country, street: a.street, street2: a.street2 || null, city: a.city, state: a.state, postal_code: a.postalCode, terms_accepted_at: new Date() })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
    }
    if (phoneNumber) {
      const taken = await trx.updateTable('phone_numbers').set({ extension_id: ext.id }).where('account_id', '=', accountId).where('id', '=', phoneNumber.id).where('extension_id', 'is', null).executeTakeFirst();
      if (Number(taken.numUpdatedRows) !== 1) throw new RowRefused('numberId', 'in_use');
    }
    if (device) {
      await trx.updateTable('devices').set({ extension_id: ext.id, emergency_address_id: addressId }).where('account_id', '=', accountId).where('id', '=', device.id).execute();
    }
    let sip: IssuedSipCredentials | undefined;
    if (data.device?.kind === 'byod') {
      try {
        sip = await issueDeviceCredentials(trx, actor, { accountId, extensionId: ext.id, type: 'byod', name: data.device.name, mac: data.device.mac ?? null, realm });
      } catch (err) {
        // A MAC is one phone's, in whichever account holds it. Taken here or in another account, the answer is the
        // same and names no one, so that adding users tells nothing about other accounts' phones.
        if (err instanceof DuplicateMacError) throw new RowRefused('device.mac', 'mac_unavailable');
        throw err;
      }
      if (addressId) await trx.updateTable('devices').set({ emergency_address_id: addressId }).where('account_id', '=', accountId).where('id', '=', sip.deviceId).execute();
    }

    await recordAudit(trx, actor, {
      accountId,
      action: 'user.created',
      targetType: 'user',
      targetId: user.id,
      after: {
        firstName: data.firstName,
        lastName: data.lastName,
        email: data.email,
        extension: fullExtension,
        siteId: site.id,
        userType: req.userType,
        onboarding: req.onboarding,
        number: phoneNumber?.e164 ?? null,
        device: data.device?.kind ?? (req.userType === 'office' ? 'softphone' : null),
        deviceId: device?.id ?? sip?.deviceId ?? null,
        emergencyAddress: addressId !== null,
      },
    });
    return {
      row,
      userId: user.id,
      email: data.email,
      extension: number,
      fullExtension,
      number: phoneNumber?.e164 ?? null,
      invited: false,
      ...(sip ? { sipCredentials: { username: sip.username, password: sip.password } } : {}),
    };
  });
}

/** Every extension of the account as it is dialled: site code and short number. */
async function dialledExtensions(db: Db, accountId: string): Promise<Set<string>> {
  const rows = await db
    .selectFrom('extensions')
    .innerJoin('sites', 'sites.id', 'extensions.site_id')
    .select(sql<string>`coalesce(sites.site_code, '') || extensions.number`.as('full'))
    .where('extensions.account_id', '=', accountId)
    .execute();
  return new Set(rows.map((r) => r.full));
}

/**
 * The next free short extension of a site: from 101 up (the first admin has
 * 101), as short as the site code allows, skipping every number dialled the
 * same as another extension.
 */
export function nextFreeExtension(siteCode: string, taken: (full: string) => boolean): string | null {
  const max = 10 ** (MAX_EXTENSION_LENGTH - siteCode.length) - 1;
  for (let n = 101; n <= max; n++) {
    if (!taken(siteCode + n)) return String(n);
  }
  return null;
}

/** What the wizard offers to choose from: sites, the number inventory, unassigned phones and the next extensions. */
export async function addUsersOptions(db: Db, accountId: string) {
  const [sites, numbers, devices, taken] = await Promise.all([
    db.selectFrom('sites').select(['id', 'name', 'site_code as siteCode', 'is_main as isMain']).where('account_id', '=', accountId).orderBy('is_main', 'desc').orderBy('name').execute(),
    db.selectFrom('phone_numbers').select(['id', 'e164', 'nickname', 'type']).where('account_id', '=', accountId).where('extension_id', 'is', null).where('type', 'in', INVENTORY_TYPES).orderBy('e164').limit(500).execute(),
    db.selectFrom('devices').select(['id', 'name', 'mac', 'type']).where('account_id', '=', accountId).where('extension_id', 'is', null).where('type', 'in', ['desk_phone', 'byod']).orderBy('name').limit(500).execute(),
    dialledExtensions(db, accountId),
  ]);
  return {
    sites,
    numbers,
    devices,
    /** Per site, the extension a row would get if left empty (before the batch's own rows). */
    nextExtension: Object.fromEntries(sites.map((s) => [s.id, nextFreeExtension(s.siteCode ?? '', (f) => taken.has(f))])),
    maxUsers: MAX_USERS_PER_BATCH,
  };
}
