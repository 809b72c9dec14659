import { z } from 'zod';
import { sql, type BulkEditChange, type BulkEditIssue, type Database } from '@carillon/db';
import type { Kysely } from 'kysely';
import { refuseGrant, type GrantRefusal, type Granter } from '@carillon/core';
import { DialPlan, fullNumber } from '../../sites/numbering.ts';

/**
 * Checks an uploaded users file row by row against the account as it is now (seed 000 "Modification
 * des informations relatives à l'utilisateur en masse"). The columns are the export's, so that a
 * downloaded list can be edited and sent back; "User ID" (or, without it, "E-mail") says which user
 * a row changes. Every problem is reported with its row (the spreadsheet's numbering: the header is
 * row 1), its column as written in the file, and a reason code the page translates.
 */

export type Field = 'userId' | 'firstName' | 'lastName' | 'email' | 'extension' | 'status' | 'role' | 'department' | 'site' | 'numbers';

/** Header names read, in lower case: the export's English ones and the French an admin may type. */
const HEADERS: Record<Field, string[]> = {
  userId: ['user id', 'id', 'id utilisateur', "id de l'utilisateur"],
  firstName: ['first name', 'prénom', 'prenom'],
  lastName: ['last name', 'nom', 'nom de famille'],
  email: ['e-mail', 'email', 'adresse e-mail'],
  extension: ['extension', 'ext.', 'ext'],
  status: ['status', 'statut'],
  role: ['role', 'rôle', 'roles', 'rôles'],
  department: ['department', 'département', 'departement'],
  site: ['site'],
  // Numbers are assigned on the Numbers pages; the column is read and left alone.
  numbers: ['numbers', 'numéros', 'numeros'],
};

const ENABLED = new Set(['activated', 'not_activated', 'enabled', 'enable', 'active', 'activé', 'non activé', 'activer']);
const DISABLED = new Set(['disabled', 'disable', 'désactivé', 'desactive', 'désactiver']);

const cell = {
  userId: z.uuid(),
  firstName: z.string().trim().min(1, 'required').max(60, 'too_long'),
  lastName: z.string().trim().max(60, 'too_long'),
  email: z.string().trim().max(254, 'too_long').pipe(z.email('invalid_email')),
  department: z.string().trim().max(100, 'too_long'),
  extension: z.string().trim().regex(/^[0-9]{1,9}$/, 'invalid_extension'),
};

interface CurrentUser {
  id: string;
  first_name: string;
  last_name: string;
  email: string;
  department: string | null;
  extension_id: string;
  number: string;
  ext_status: string;
  site_id: string;
  role_id: string;
  role_key: string | null;
  role_name: string;
  password_hash: string | null;
}

/** What one valid row changes, in database terms. */
export interface PlannedRow {
  row: number;
  user: CurrentUser;
  users: Partial<{ first_name: string; last_name: string; email: string; department: string | null; role_id: string }>;
  extension: Partial<{ site_id: string; number: string }>;
  status?: 'enabled' | 'disabled';
  change: BulkEditChange;
}

export interface Validation {
  issues: BulkEditIssue[];
  plan: PlannedRow[];
  rowCount: number;
}

export interface Caller {
  accountId: string;
  userId: string;
  isSuperAdmin: boolean;
  /** Who grants the roles the file gives: nobody grants a right they do not hold. */
  granter: Granter;
}

export async function validateTable(db: Kysely<Database>, who: Caller, table: string[][]): Promise<Validation> {
  const issues: BulkEditIssue[] = [];
  const [header = [], ...body] = table;
  const rowCount = body.filter((r) => r.some((c) => c.trim() !== '')).length;
  const col = new Map<Field, number>();
  header.forEach((h, i) => {
    const name = h.trim().toLowerCase();
    if (name === '') return;
    const field = (Object.keys(HEADERS) as Field[]).find((f) => HEADERS[f].includes(name));
    if (!field) issues.push({ row: 1, column: h.trim(), reason: 'unknown_column' });
    else if (col.has(field)) issues.push({ row: 1, column: h.trim(), reason: 'duplicate_column' });
    else col.set(field, i);
  });
  const keyField: Field | null = col.has('userId') ? 'userId' : col.has('email') ? 'email' : null;
  if (!keyField) issues.push({ row: 1, column: '', reason: 'missing_key_column' });
  if (rowCount === 0) issues.push({ row: 2, column: '', reason: 'no_rows' });
  if (issues.length) return { issues, plan: [], rowCount };

  const { accountId } = who;
  const [users, roles, plan] = await Promise.all([
    db
      .selectFrom('users')
      .innerJoin('extensions', 'extensions.id', 'users.extension_id')
      .innerJoin('roles', 'roles.id', 'users.role_id')
      .leftJoin('user_credentials', 'user_credentials.user_id', 'users.id')
      .select([
        'users.id',
        'users.first_name',
        'users.last_name',
        'users.email',
        'users.department',
        'users.extension_id',
        'extensions.number',
        'extensions.status as ext_status',
        'extensions.site_id',
        'users.role_id',
        'roles.key as role_key',
        'roles.name as role_name',
        'user_credentials.password_hash',
      ])
      .where('users.account_id', '=', accountId)
      .where('extensions.account_id', '=', accountId)
      .execute(),
    db
      .selectFrom('roles')
      .select(['id', 'key', 'name'])
      .where((eb) => eb.or([eb('account_id', '=', accountId), eb('account_id', 'is', null)]))
      .execute(),
    DialPlan.load(db, accountId),
  ]);
  const byId = new Map(users.map((u) => [u.id, u]));
  const byEmail = new Map(users.map((u) => [u.email.toLowerCase(), u]));
  const siteByName = new Map<string, string[]>();
  for (const s of plan.sites.values()) siteByName.set(s.name.trim().toLowerCase(), [...(siteByName.get(s.name.trim().toLowerCase()) ?? []), s.id]);
  const roleByName = new Map<string, (typeof roles)[number]>();
  for (const r of roles) {
    roleByName.set(r.name.trim().toLowerCase(), r);
    if (r.key) roleByName.set(r.key, r);
  }
  // Which roles the caller may not hand out, and why (the rows are checked synchronously below).
  const refusalOf = new Map(await Promise.all(roles.map(async (r) => [r.id, await refuseGrant(db, who.granter, { roleId: r.id })] as const)));
  const siteName = (id: string) => plan.sites.get(id)?.name ?? '';
  const fullOf = (siteId: string, short: string) => fullNumber(plan.sites.get(siteId)?.siteCode ?? null, short);

  const planned: PlannedRow[] = [];
  const seenUsers = new Map<string, number>();
  const columnName = (f: Field) => header[col.get(f)!]!.trim();
  body.forEach((cells, i) => {
    const row = i + 2;
    if (cells.every((c) => c.trim() === '')) return;
    const read = (f: Field): string | undefined => (col.has(f) ? (cells[col.get(f)!] ?? '').trim() : undefined);
    const problem = (f: Field, reason: string, params?: Record<string, string>) => issues.push({ row, column: col.has(f) ? columnName(f) : '', reason, ...(params ? { params } : {}) });
    const rowIssues = issues.length;

    // Which user: by id when the file has the column, else by e-mail.
    let user: CurrentUser | undefined;
    const idCell = read('userId');
    if (idCell) {
      if (!cell.userId.safeParse(idCell).success) problem('userId', 'invalid_user_id');
      else if (!(user = byId.get(idCell.toLowerCase()))) problem('userId', 'unknown_user');
    } else if (keyField === 'userId' && !read('email')) problem('userId', 'required');
    else {
      const email = read('email') ?? '';
      if (!email) problem('email', 'required');
      else if (!(user = byEmail.get(email.toLowerCase()))) problem(keyField === 'userId' ? 'userId' : 'email', 'unknown_user');
    }
    if (!user) return;
    if (seenUsers.has(user.id)) return problem(keyField!, 'duplicate_user', { row: String(seenUsers.get(user.id)) });
    seenUsers.set(user.id, row);

    const p: PlannedRow = { row, user, users: {}, extension: {}, change: { row, userId: user.id, name: `${user.first_name} ${user.last_name}`.trim(), changes: {} } };
    const note = (field: string, from: string | null, to: string | null) => (p.change.changes[field] = { from, to });
    const text = (f: 'firstName' | 'lastName' | 'email' | 'department') => {
      const v = read(f);
      if (v === undefined) return undefined;
      const parsed = cell[f].safeParse(v);
      if (!parsed.success) {
        const reason = parsed.error.issues[0]?.message ?? 'invalid';
        problem(f, reason, reason === 'too_long' ? { max: f === 'department' ? '100' : f === 'email' ? '254' : '60' } : undefined);
        return undefined;
      }
      return parsed.data;
    };
    const firstName = text('firstName');
    if (firstName !== undefined && firstName !== user.first_name) {
      p.users.first_name = firstName;
      note('firstName', user.first_name, firstName);
    }
    const lastName = text('lastName');
    if (lastName !== undefined && lastName !== user.last_name) {
      p.users.last_name = lastName;
      note('lastName', user.last_name, lastName);
    }
    // The e-mail is the key when there is no id column: then it cannot be changed, only matched.
    if (keyField === 'userId') {
      const email = text('email');
      if (email !== undefined && email.toLowerCase() !== user.email.toLowerCase()) {
        p.users.email = email;
        note('email', user.email, email);
      }
    }
    const department = text('department');
    if (department !== undefined && (department || null) !== user.department) {
      p.users.department = department || null;
      note('department', user.department, department || null);
    }

    const siteCell = read('site');
    let siteId = user.site_id;
    if (siteCell) {
      const found = siteByName.get(siteCell.toLowerCase()) ?? [];
      if (found.length === 0) problem('site', 'unknown_site', { site: siteCell });
      else if (found.length > 1) problem('site', 'ambiguous_site', { site: siteCell });
      else siteId = found[0]!;
    }
    const currentFull = fullOf(user.site_id, user.number);
    const extCell = read('extension');
    let short = user.number;
    if (extCell && extCell !== currentFull) {
      if (!cell.extension.safeParse(extCell).success) problem('extension', 'invalid_extension');
      else {
        const code = plan.sites.get(siteId)?.siteCode ?? '';
        if (code && (!extCell.startsWith(code) || extCell.length === code.length)) problem('extension', 'extension_site_code', { code, site: siteName(siteId) });
        else short = extCell.slice(code.length);
      }
    }
    if (siteId !== user.site_id || short !== user.number) {
      // A moved user keeps the short number when the file leaves the extension as it was.
      const why = plan.problem(user.extension_id, siteId, short);
      if (why === 'too_long') problem('extension', 'extension_too_long', { number: fullOf(siteId, short), max: '5' });
      else if (why === 'invalid') problem('extension', 'invalid_extension');
      else {
        plan.move(user.extension_id, siteId, short);
        if (siteId !== user.site_id) {
          p.extension.site_id = siteId;
          note('site', siteName(user.site_id), siteName(siteId));
        }
        if (short !== user.number) p.extension.number = short;
        if (fullOf(siteId, short) !== currentFull) note('extension', currentFull, fullOf(siteId, short));
      }
    }

    const roleCell = read('role');
    let refusal: GrantRefusal | null;
    if (roleCell) {
      const role = roleByName.get(roleCell.toLowerCase());
      if (!role) problem('role', 'unknown_role', { role: roleCell });
      else if (role.id !== user.role_id) {
        if (user.id === who.userId) problem('role', 'self');
        else if (!who.isSuperAdmin && (role.key === 'super_admin' || user.role_key === 'super_admin')) problem('role', 'super_admin_protected');
        else if ((refusal = refusalOf.get(role.id) ?? null)) {
          if (refusal.reason === 'permission_not_held') problem('role', 'permission_not_held', { role: role.name, permissions: refusal.permissions.join(', ') });
          else problem('role', refusal.reason === 'scope_too_narrow' ? 'scope_too_narrow' : 'unknown_role', { role: role.name });
        } else {
          p.users.role_id = role.id;
          note('role', user.role_name, role.name);
        }
      }
    }

    const statusCell = read('status')?.toLowerCase();
    if (statusCell) {
      const wanted = ENABLED.has(statusCell) ? 'enabled' : DISABLED.has(statusCell) ? 'disabled' : null;
      if (!wanted) problem('status', 'invalid_status', { status: statusCell });
      else if ((wanted === 'disabled') !== (user.ext_status === 'disabled')) {
        if (user.id === who.userId) problem('status', 'self');
        else if (!who.isSuperAdmin && user.role_key === 'super_admin') problem('status', 'super_admin_protected');
        else {
          p.status = wanted;
          note('status', user.ext_status, wanted === 'disabled' ? 'disabled' : user.password_hash ? 'activated' : 'not_activated');
        }
      }
    }
    const changes = Object.keys(p.change.changes).length;
    // A User Admin must not be able to take over an owner's account (e.g. by changing their e-mail).
    if (changes && user.role_key === 'super_admin' && !who.isSuperAdmin && issues.length === rowIssues) problem(keyField!, 'super_admin_protected');
    if (issues.length === rowIssues && changes) planned.push(p);
  });

  // Across rows: numbers that would be dialled the same once every row is applied.
  for (const p of planned) {
    if (!p.change.changes.extension) continue;
    const clash = plan.clashes(p.user.extension_id);
    if (clash.length) issues.push({ row: p.row, column: columnName('extension'), reason: 'extension_taken', params: { number: plan.get(p.user.extension_id)!.full } });
  }
  // E-mails: unique per sign-in across the whole service, and within the file.
  const finalEmail = new Map(users.map((u) => [u.id, u.email.toLowerCase()]));
  for (const p of planned) if (p.users.email) finalEmail.set(p.user.id, p.users.email.toLowerCase());
  const owners = new Map<string, string[]>();
  for (const [id, e] of finalEmail) owners.set(e, [...(owners.get(e) ?? []), id]);
  const changedEmails = planned.filter((p) => p.users.email).map((p) => p.users.email!.toLowerCase());
  const elsewhere = changedEmails.length
    ? new Set(
        (
          await db
            .selectFrom('users')
            .select(sql<string>`lower(email)`.as('email'))
            .where('email_login', '=', true)
            .where('account_id', '!=', accountId)
            .where(sql`lower(email)`, 'in', changedEmails)
            .execute()
        ).map((r) => r.email),
      )
    : new Set<string>();
  for (const p of planned) {
    const e = p.users.email?.toLowerCase();
    if (e && ((owners.get(e)?.length ?? 0) > 1 || elsewhere.has(e))) issues.push({ row: p.row, column: columnName('email'), reason: 'email_taken', params: { email: p.users.email! } });
  }
  // The account keeps at least one enabled Super Admin.
  const superAdmins = users.filter((u) => u.role_key === 'super_admin' && u.ext_status !== 'disabled');
  const roleKey = new Map(roles.map((r) => [r.id, r.key]));
  const remaining = superAdmins.filter((u) => {
    const p = planned.find((x) => x.user.id === u.id);
    return !p || (p.status !== 'disabled' && (!p.users.role_id || roleKey.get(p.users.role_id) === 'super_admin'));
  });
  const promoted = planned.some((p) => p.users.role_id && roleKey.get(p.users.role_id) === 'super_admin' && (p.status === 'enabled' || (p.user.ext_status !== 'disabled' && p.status !== 'disabled')));
  if (remaining.length === 0 && !promoted) {
    for (const p of planned.filter((x) => superAdmins.some((u) => u.id === x.user.id))) {
      issues.push({ row: p.row, column: columnName(p.status === 'disabled' ? 'status' : 'role'), reason: 'last_super_admin' });
    }
  }
  issues.sort((a, b) => a.row - b.row);
  return { issues, plan: issues.length ? [] : planned, rowCount };
}
