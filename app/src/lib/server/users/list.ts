import { z } from 'zod';
import type { Expression, RawBuilder, SqlBool } from 'kysely';
import type { AuthenticatedSession } from '@carillon/core';
import { sql, type Db } from '@carillon/db';
import { userInScope, userScopeOf, type UserScope } from './scope.ts';

/**
 * The admin "Users with extensions" list (seed 000 "Affichage des utilisateurs
 * avec des extensions", "Personnalisation des colonnes"): search, filters,
 * sorting and pages, computed in the database so that an account of 10,000
 * users answers in milliseconds (bench/users-list.ts).
 */

/** A user's status is their extension's; "unassigned" extensions have no user and are listed apart. */
export const USER_STATUSES = ['activated', 'not_activated', 'disabled'] as const;
export const USER_SORTS = ['name', 'extension', 'email', 'status', 'role', 'department', 'site'] as const;
export type UserSort = (typeof USER_SORTS)[number];

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .optional()
    .transform((v) => (v === '' ? undefined : v));

export const usersListQuery = z
  .object({
    /** Prefix of first or last name ("jean", "jean dup"), of the e-mail, of the extension (short or with the site code), or digits of a phone number. */
    q: optionalText(100),
    status: z.enum(USER_STATUSES).optional(),
    /** A role id (predefined or custom). */
    role: z.uuid().optional(),
    department: optionalText(100),
    site: z.uuid().optional(),
    sort: z.enum(USER_SORTS).default('name'),
    order: z.enum(['asc', 'desc']).default('asc'),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();
export type UsersListQuery = z.output<typeof usersListQuery>;

/** LIKE treats % and _ as wildcards and \ as the escape: a typed "a_b" must match only itself. */
const likePrefix = (s: string) => `${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

interface SiteCode {
  id: string;
  site_code: string | null;
}

function filtered(db: Db, accountId: string, f: UsersListQuery, sites: SiteCode[], scope: UserScope) {
  let q = db
    .selectFrom('users')
    .innerJoin('extensions', 'extensions.id', 'users.extension_id')
    .innerJoin('roles', 'roles.id', 'users.role_id')
    .innerJoin('sites', 'sites.id', 'extensions.site_id')
    .where('users.account_id', '=', accountId)
    .where('extensions.account_id', '=', accountId);
  const inScope = userInScope(scope, accountId, sql.ref('users.id'));
  if (inScope) q = q.where(inScope);
  if (f.status) q = q.where('extensions.status', '=', f.status);
  if (f.role) q = q.where('users.role_id', '=', f.role);
  if (f.site) q = q.where('extensions.site_id', '=', f.site);
  if (f.department) q = q.where(sql`lower(users.department)`, '=', f.department.toLowerCase());
  if (f.q) {
    const text = f.q.toLowerCase();
    const like = likePrefix(text);
    const digits = /^[\d\s().+-]+$/.test(text) ? text.replace(/\D/g, '') : '';
    q = q.where((eb) => {
      const any: Expression<SqlBool>[] = [
        eb(sql`lower(users.first_name)`, 'like', like),
        eb(sql`lower(users.last_name)`, 'like', like),
        eb(sql`lower(users.first_name || ' ' || users.last_name)`, 'like', like),
        eb(sql`lower(users.email)`, 'like', like),
      ];
      if (digits) {
        any.push(eb('extensions.number', 'like', likePrefix(digits)));
        // The full form of an extension is its site's code followed by the short number (seed 000 "Multi-site").
        for (const s of sites) {
          if (!s.site_code) continue;
          if (s.site_code.startsWith(digits)) any.push(eb('extensions.site_id', '=', s.id));
          else if (digits.startsWith(s.site_code))
            any.push(eb.and([eb('extensions.site_id', '=', s.id), eb('extensions.number', 'like', likePrefix(digits.slice(s.site_code.length)))]));
        }
        // Phone numbers: any run of the digits, so "(409) 200-2384", "2002384" and "+1 409…" all find +14092002384.
        if (digits.length >= 3)
          any.push(
            eb(
              'users.extension_id',
              'in',
              db.selectFrom('phone_numbers').select('phone_numbers.extension_id').where('phone_numbers.account_id', '=', accountId).where('phone_numbers.e164', 'like', `%${digits}%`).$narrowType<{ extension_id: string }>(),
            ),
          );
      }
      return eb.or(any);
    });
  }
  return q;
}

const SORT_KEYS: Record<UserSort, RawBuilder<unknown>[]> = {
  name: [sql`lower(users.first_name)`, sql`lower(users.last_name)`],
  // The full extension (site code and number) in numeric order: 33101 comes after 206.
  extension: [sql`lpad(coalesce(sites.site_code, '') || extensions.number, 9, '0')`],
  email: [sql`lower(users.email)`],
  status: [sql`extensions.status`],
  role: [sql`roles.name`],
  department: [sql`lower(users.department)`],
  site: [sql`sites.name`],
};

export async function listUsersPage(db: Db, auth: AuthenticatedSession, f: UsersListQuery) {
  // A site-scoped role sees its sites' users, a group manager's role their groups' members.
  const accountId = auth.account.id;
  const [sites, scope] = await Promise.all([
    f.q ? db.selectFrom('sites').select(['id', 'site_code']).where('account_id', '=', accountId).execute() : Promise.resolve([]),
    userScopeOf(db, auth),
  ]);
  const base = filtered(db, accountId, f, sites, scope);
  const dir = f.order === 'desc' ? sql`desc` : sql`asc`;
  const nulls = f.order === 'desc' ? sql`nulls first` : sql`nulls last`;
  let rowsQuery = base.select([
    'users.id',
    'users.first_name as firstName',
    'users.last_name as lastName',
    'users.email',
    'users.department',
    'extensions.id as extensionId',
    'extensions.number as extension',
    'extensions.status',
    'sites.id as siteId',
    'sites.name as siteName',
    'sites.site_code as siteCode',
    'roles.id as roleId',
    'roles.key as roleKey',
    'roles.name as roleName',
    sql<string[]>`(select coalesce(json_agg(pn.e164 order by pn.e164), '[]'::json) from phone_numbers pn where pn.extension_id = extensions.id and pn.account_id = ${accountId})`.as('numbers'),
  ]);
  for (const key of SORT_KEYS[f.sort]) rowsQuery = rowsQuery.orderBy(sql`${key} ${dir} ${nulls}`);
  rowsQuery = rowsQuery.orderBy('users.id');
  const [rows, count] = await Promise.all([
    rowsQuery.limit(f.limit).offset(f.offset).execute(),
    base.select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow(),
  ]);
  return {
    items: rows.map((r) => ({ ...r, fullExtension: `${r.siteCode ?? ''}${r.extension}` })),
    total: Number(count.total),
    limit: f.limit,
    offset: f.offset,
  };
}

export type UsersListPage = Awaited<ReturnType<typeof listUsersPage>>;
export type UsersListRow = UsersListPage['items'][number];

/** What the filters offer: the roles in use or assignable, the sites and the departments of the account. */
export async function usersListFacets(db: Db, accountId: string) {
  const [roles, sites, departments] = await Promise.all([
    db
      .selectFrom('roles')
      .select(['id', 'key', 'name'])
      .where((eb) => eb.or([eb('account_id', 'is', null), eb('account_id', '=', accountId)]))
      .orderBy('created_at')
      .orderBy('name')
      .execute(),
    db.selectFrom('sites').select(['id', 'name', 'site_code as siteCode']).where('account_id', '=', accountId).orderBy('is_main', 'desc').orderBy('name').execute(),
    db
      .selectFrom('users')
      .select('department')
      .distinct()
      .where('account_id', '=', accountId)
      .where('department', 'is not', null)
      .where('department', '!=', '')
      .orderBy('department')
      .execute(),
  ]);
  return { roles, sites, departments: departments.map((d) => d.department!) };
}
