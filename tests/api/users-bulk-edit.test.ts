import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '@carillon/core';
import { openPostgres, type Db, type ExtensionStatus } from '@carillon/db';
import { usersXlsx } from '../../app/src/lib/server/users/export.ts';
import type { UsersListRow } from '../../app/src/lib/server/users/list.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { craftedZip } from '../support/crafted-zip.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';

/**
 * Bulk edit of users by file (issue 5, deliverable 4) and moving users between sites with
 * renumbering (deliverable 8), through the product: POST /api/users/bulk-edit checks a CSV or
 * XLSX and changes nothing; POST /api/users/bulk-edit/{id}/confirm applies it in one transaction.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let admin: HttpClient;
let other: HttpClient;
let accountId = '';
let mainSiteId = '';
let parisSiteId = '';
let foreignUserId = '';
const ids: Record<string, string> = {};

interface Issue {
  row: number;
  column: string;
  reason: string;
  params?: Record<string, string>;
}
interface Edit {
  id: string;
  status: 'invalid' | 'ready' | 'applied';
  rowCount: number;
  issues: Issue[];
  changes: { row: number; userId: string; name: string; changes: Record<string, { from: string | null; to: string | null }> }[];
  applied?: number;
  error?: string;
}

async function addUser(u: { key: string; first: string; last: string; email: string; ext: string; site?: string; status?: ExtensionStatus; role?: string; department?: string }) {
  const role = await db.selectFrom('roles').select('id').where('key', '=', u.role ?? 'standard').executeTakeFirstOrThrow();
  const ext = await db
    .insertInto('extensions')
    .values({ account_id: accountId, site_id: u.site ?? mainSiteId, number: u.ext, type: 'user', status: u.status ?? 'activated' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const user = await db
    .insertInto('users')
    .values({ account_id: accountId, extension_id: ext.id, role_id: role.id, first_name: u.first, last_name: u.last, email: u.email, department: u.department ?? null, setup_progress: JSON.stringify({}) })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.insertInto('user_credentials').values({ user_id: user.id, password_hash: await hashSecret('Meadow5Lantern') }).execute();
  ids[u.key] = user.id;
}

const HEADER = ['First name', 'Last name', 'E-mail', 'Extension', 'Status', 'Role', 'Department', 'Site', 'Numbers', 'User ID'];
const csvOf = (rows: string[][]) => rows.map((r) => r.map((c) => (/[",\r\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(',')).join('\r\n') + '\r\n';

/** The account's users as the export writes them, by first name, cells in HEADER order. */
async function exported(query = ''): Promise<Map<string, string[]>> {
  const res = await admin.get(`/api/users/export?format=csv${query}`);
  expect(res.status).toBe(200);
  const [head, ...lines] = (await res.text()).trim().split('\r\n');
  expect(head).toBe(HEADER.join(','));
  return new Map(lines.map((l) => l.split(',')).map((cells) => [cells[0]!, cells]));
}
const edited = (row: string[], change: Partial<Record<(typeof HEADER)[number], string>>) => row.map((c, i) => change[HEADER[i]!] ?? c);

async function upload(content: string | Uint8Array, name = 'users.csv', client = admin) {
  const form = new FormData();
  form.set('file', new Blob([typeof content === 'string' ? content : new Uint8Array(content)]), name);
  return client.request('POST', '/api/users/bulk-edit', form);
}
const confirm = (id: string, client = admin) => client.request('POST', `/api/users/bulk-edit/${id}/confirm`);

/** Everything a bulk edit could change, to prove that nothing did. */
const snapshot = async () => ({
  users: await db.selectFrom('users').select(['id', 'first_name', 'last_name', 'email', 'department', 'role_id', 'extension_id']).where('account_id', '=', accountId).orderBy('id').execute(),
  extensions: await db.selectFrom('extensions').select(['id', 'number', 'site_id', 'status']).where('account_id', '=', accountId).orderBy('id').execute(),
  audit: (await db.selectFrom('audit_events').select((eb) => eb.fn.countAll<string>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow()).n,
});
const auditOf = (userId: string, action: string) =>
  db.selectFrom('audit_events').select(['action', 'before', 'after']).where('account_id', '=', accountId).where('target_id', '=', userId).where('action', '=', action).orderBy('occurred_at').execute();

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'bulkedit');
  product = await startProduct(scratch ? { DATABASE_URL: scratch.url } : {});
  db = openPostgres(product.databaseUrl(), 2);
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  const me = (await (await admin.get('/api/me')).json()) as { id: string; accountId: string; siteId: string };
  ids.admin = me.id;
  accountId = me.accountId;
  mainSiteId = me.siteId;
  parisSiteId = (await db.insertInto('sites').values({ account_id: accountId, name: 'Paris', site_code: '33' }).returning('id').executeTakeFirstOrThrow()).id;
  await addUser({ key: 'alice', first: 'Alice', last: 'Martin', email: 'alice@acme.example', ext: '201', department: 'Sales' });
  await addUser({ key: 'bob', first: 'Bob', last: 'Stone', email: 'bob@acme.example', ext: '202' });
  await addUser({ key: 'claire', first: 'Claire', last: 'Dupont', email: 'claire@acme.example', ext: '101', site: parisSiteId });
  await addUser({ key: 'dan', first: 'Dan', last: 'Under', email: 'dan@acme.example', ext: '204' });
  await addUser({ key: 'dxn', first: 'Dxn', last: 'Wild', email: 'dxn@acme.example', ext: '205' });
  await addUser({ key: 'uma', first: 'Uma', last: 'Vance', email: 'uma@acme.example', ext: '206', role: 'user_admin' });

  const created = await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example']);
  other = new HttpClient(product.url);
  expect((await activate(other, created.link)).status).toBe(303);
  foreignUserId = ((await (await other.get('/api/me')).json()) as { id: string }).id;
}, 120_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

describe('bulk edit by file', () => {
  it('reports every bad cell by row, column and reason, and applies nothing, not even the good rows', async () => {
    const rows = await exported();
    const before = await snapshot();
    const file = csvOf([
      HEADER,
      edited(rows.get('Alice')!, { Department: 'Marketing' }),
      edited(rows.get('Bob')!, { 'E-mail': 'not-an-email' }),
      edited(rows.get('Claire')!, { Site: 'Atlantis' }),
      edited(rows.get('Dan')!, { Extension: '201' }),
      edited(rows.get('Dxn')!, { 'User ID': foreignUserId, 'First name': 'Mallory' }),
      edited(rows.get('Uma')!, { Role: 'Wizard', Status: 'sleeping' }),
    ]);
    const res = await upload(file);
    expect(res.status).toBe(201);
    const report = (await res.json()) as Edit;
    expect(report.status).toBe('invalid');
    expect(report.rowCount).toBe(6);
    expect(report.issues.map((i) => [i.row, i.column, i.reason])).toEqual([
      [3, 'E-mail', 'invalid_email'],
      [4, 'Site', 'unknown_site'],
      [5, 'Extension', 'extension_taken'],
      [6, 'User ID', 'unknown_user'],
      [7, 'Role', 'unknown_role'],
      [7, 'Status', 'invalid_status'],
    ]);
    expect(report.issues.find((i) => i.reason === 'extension_taken')!.params).toEqual({ number: '201' });
    expect(report.changes).toEqual([]);
    // Kept server-side under its id; a confirm is refused and nothing changed anywhere.
    expect(((await (await admin.get(`/api/users/bulk-edit/${report.id}`)).json()) as Edit).issues).toEqual(report.issues);
    const refused = await confirm(report.id);
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as Edit).error).toBe('file_has_errors');
    expect(await snapshot()).toEqual(before);
    // B's user named by id in A's file is untouched.
    expect(((await (await other.get('/api/me')).json()) as { firstName: string }).firstName).not.toBe('Mallory');
  });

  it('applies the fixed file after the confirmation, in one go, with one audit event per user (e-mails, swapped extensions, a site move, status, role)', async () => {
    const rows = await exported();
    const file = csvOf([
      HEADER,
      edited(rows.get('Alice')!, { Department: 'Marketing' }),
      edited(rows.get('Bob')!, { 'E-mail': 'bob.stone@acme.example', Status: 'disabled' }),
      // Dan moves to Paris and keeps his short number: 204 becomes 33204.
      edited(rows.get('Dan')!, { Site: 'Paris' }),
      // Dxn and Uma swap their extensions.
      edited(rows.get('Dxn')!, { Extension: '206' }),
      edited(rows.get('Uma')!, { Extension: '205', Role: 'Standard' }),
      // Unchanged rows are allowed and change nothing.
      rows.get('Claire')!,
    ]);
    const before = await snapshot();
    const res = await upload(file);
    expect(res.status).toBe(201);
    const edit = (await res.json()) as Edit;
    expect(edit.issues).toEqual([]);
    expect(edit.status).toBe('ready');
    const mainSite = rows.get('Dan')![7]!;
    expect(Object.fromEntries(edit.changes.map((c) => [c.name, c.changes]))).toEqual({
      'Alice Martin': { department: { from: 'Sales', to: 'Marketing' } },
      'Bob Stone': { email: { from: 'bob@acme.example', to: 'bob.stone@acme.example' }, status: { from: 'activated', to: 'disabled' } },
      'Dan Under': { site: { from: mainSite, to: 'Paris' }, extension: { from: '204', to: '33204' } },
      'Dxn Wild': { extension: { from: '205', to: '206' } },
      'Uma Vance': { extension: { from: '206', to: '205' }, role: { from: 'User Admin', to: 'Standard' } },
    });
    // Still nothing applied before the confirmation.
    expect(await snapshot()).toEqual(before);

    const applied = await confirm(edit.id);
    expect(applied.status).toBe(200);
    const done = (await applied.json()) as Edit;
    expect(done.status).toBe('applied');
    expect(done.applied).toBe(5);
    const now = await exported();
    expect(now.get('Alice')![6]).toBe('Marketing');
    expect(now.get('Bob')!.slice(2, 5)).toEqual(['bob.stone@acme.example', '202', 'disabled']);
    expect([now.get('Dan')![3], now.get('Dan')![7]]).toEqual(['33204', 'Paris']);
    expect([now.get('Dxn')![3], now.get('Uma')![3], now.get('Uma')![5]]).toEqual(['206', '205', 'Standard']);
    const audit = await auditOf(ids.bob!, 'user.bulk_updated');
    expect(audit).toHaveLength(1);
    expect(audit[0]!.before).toEqual({ email: 'bob@acme.example', status: 'activated' });
    expect(audit[0]!.after).toEqual({ email: 'bob.stone@acme.example', status: 'disabled', bulkEditId: edit.id });
    expect(await auditOf(ids.claire!, 'user.bulk_updated')).toEqual([]);
    // Applied once only.
    const again = await confirm(edit.id);
    expect(again.status).toBe(409);
    expect(((await again.json()) as Edit).error).toBe('already_applied');
  });

  it('checks the file again at the confirmation: a conflict that appeared since is refused and nothing applies', async () => {
    const rows = await exported();
    const res = await upload(csvOf([HEADER, edited(rows.get('Alice')!, { Department: 'Ops' }), edited(rows.get('Dxn')!, { Extension: '299' })]));
    const edit = (await res.json()) as Edit;
    expect(edit.status).toBe('ready');
    // Someone takes 299 meanwhile.
    await addUser({ key: 'zed', first: 'Zed', last: 'Late', email: 'zed@acme.example', ext: '299' });
    const before = await snapshot();
    const refused = await confirm(edit.id);
    expect(refused.status).toBe(409);
    const body = (await refused.json()) as Edit;
    expect(body.error).toBe('file_has_errors');
    expect(body.issues.map((i) => [i.row, i.column, i.reason])).toEqual([[3, 'Extension', 'extension_taken']]);
    expect(await snapshot()).toEqual(before);
  });

  it('reads an XLSX written by the project\'s own export', async () => {
    const list = (await (await admin.get('/api/users?q=alice')).json()) as { items: UsersListRow[] };
    expect(list.items).toHaveLength(1);
    const xlsx = await usersXlsx(list.items.map((u) => ({ ...u, lastName: 'Martin-Xlsx', department: 'Finance' })));
    const res = await upload(xlsx, 'users.xlsx');
    expect(res.status).toBe(201);
    const edit = (await res.json()) as Edit;
    expect(edit.issues).toEqual([]);
    expect(edit.changes.map((c) => c.changes)).toEqual([{ lastName: { from: 'Martin', to: 'Martin-Xlsx' }, department: { from: 'Marketing', to: 'Finance' } }]);
    expect((await confirm(edit.id)).status).toBe(200);
    expect((await exported('&q=alice')).get('Alice')!.slice(1, 7)).toEqual(['Martin-Xlsx', 'alice@acme.example', '201', 'activated', 'Standard', 'Finance']);
    // And the export downloaded over HTTP reads back as a file that changes nothing.
    const downloaded = await admin.get('/api/users/export?format=xlsx');
    const round = (await (await upload(new Uint8Array(await downloaded.arrayBuffer()), 'users.xlsx')).json()) as Edit;
    expect([round.status, round.issues, round.changes]).toEqual(['ready', [], []]);
  });

  it('refuses an XLSX whose zip headers lie about its sizes, quickly, while the server keeps answering others', async () => {
    // A sheet that claims 120 bytes and inflates to 60 MB (a 60 KB upload).
    const lying = craftedZip([
      { name: 'xl/workbook.xml', content: Buffer.from('<workbook><sheets><sheet r:id="rId1"/></sheets></workbook>') },
      { name: 'xl/worksheets/sheet1.xml', content: Buffer.alloc(60 * 1024 * 1024, '<row r="1"><c t="inlineStr"><is><t>x</t></is></c></row>'), claimedSize: 120 },
    ]);
    const uploads = Array.from({ length: 3 }, () => upload(lying, 'users.xlsx'));
    // Asked while the uploads are being read: answered without waiting for them.
    const started = performance.now();
    const other = await admin.get('/api/users?limit=1');
    const otherMs = performance.now() - started;
    expect(other.status).toBe(200);
    for (const res of await Promise.all(uploads)) {
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'unreadable_file', message: 'the workbook part xl/worksheets/sheet1.xml is compressed more than 100 times: not a users file' });
    }
    expect(otherMs).toBeLessThan(1500);
  });

  it('refuses an oversized file (413), too many rows (413), an unreadable or headerless file (400), and names bad columns', async () => {
    const big = await upload('First name,User ID\r\n' + 'x'.repeat(6 * 1024 * 1024), 'big.csv');
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: string }).error).toBe('file_too_large');
    const many = await upload('First name,User ID\r\n' + 'a,b\r\n'.repeat(10_001), 'many.csv');
    expect(many.status).toBe(413);
    expect(((await many.json()) as { error: string }).error).toBe('too_many_rows');
    const broken = await upload(new Uint8Array([0x50, 0x4b, 3, 4, 1, 2, 3]), 'broken.xlsx');
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: string }).error).toBe('unreadable_file');
    expect((await upload('', 'empty.csv')).status).toBe(400);
    expect((await admin.json('POST', '/api/users/bulk-edit', { file: 'users.csv' })).status).toBe(400);
    const columns = (await (await upload('Surname,First name\r\nX,Y\r\n')).json()) as Edit;
    expect(columns.issues.map((i) => [i.row, i.column, i.reason])).toEqual([
      [1, 'Surname', 'unknown_column'],
      [1, '', 'missing_key_column'],
    ]);
  });

  it('keeps a User Admin from changing a Super Admin or their own status, and reads a French Excel CSV (semicolons, Windows-1252)', async () => {
    await addUser({ key: 'ursula', first: 'Ursula', last: 'Admin', email: 'ursula@acme.example', ext: '230', role: 'user_admin' });
    const ursula = new HttpClient(product.url);
    expect((await ursula.form('/login', { identifier: 'ursula@acme.example', password: 'Meadow5Lantern' })).status).toBe(303);
    const file = csvOf([
      ['User ID', 'E-mail', 'Status', 'Department'],
      [ids.admin!, 'takeover@evil.example', 'activated', ''],
      [ids.ursula!, 'ursula@acme.example', 'disabled', ''],
      [ids.bob!, 'bob.stone@acme.example', 'disabled', 'Legal'],
    ]);
    const before = await snapshot();
    const edit = (await (await upload(file, 'users.csv', ursula)).json()) as Edit;
    expect(edit.issues.map((i) => [i.row, i.column, i.reason])).toEqual([
      [2, 'User ID', 'super_admin_protected'],
      [3, 'Status', 'self'],
    ]);
    expect((await confirm(edit.id, ursula)).status).toBe(409);
    expect(await snapshot()).toEqual(before);

    const latin1 = Buffer.from(`User ID;Department\r\n${ids.bob};Comptabilité\r\n`, 'latin1');
    const french = (await (await upload(new Uint8Array(latin1), 'utilisateurs.csv')).json()) as Edit;
    expect(french.issues).toEqual([]);
    expect(french.changes.map((c) => c.changes)).toEqual([{ department: { from: null, to: 'Comptabilité' } }]);
  });

  it('keeps a User Admin from granting a role with rights they lack, to themself or another user: row, column and reason, nothing applied', async () => {
    await addUser({ key: 'ulrich', first: 'Ulrich', last: 'Admin', email: 'ulrich@acme.example', ext: '231', role: 'user_admin' });
    const ulrich = new HttpClient(product.url);
    expect((await ulrich.form('/login', { identifier: 'ulrich@acme.example', password: 'Meadow5Lantern' })).status).toBe(303);
    const file = csvOf([
      ['User ID', 'Role'],
      [ids.bob!, 'Phone System Admin'],
      [ids.dan!, 'billing_admin'],
      [ids.dxn!, 'Standard'],
    ]);
    const before = await snapshot();
    const edit = (await (await upload(file, 'users.csv', ulrich)).json()) as Edit;
    expect(edit.issues.map((i) => [i.row, i.column, i.reason])).toEqual([
      [2, 'Role', 'permission_not_held'],
      [3, 'Role', 'permission_not_held'],
    ]);
    expect(edit.issues[0]!.params).toMatchObject({ role: 'Phone System Admin' });
    expect(edit.issues[0]!.params!.permissions).toContain('phone_system.manage');
    expect(edit.issues[1]!.params!.permissions).toContain('billing.manage');
    expect((await confirm(edit.id, ulrich)).status).toBe(409);
    expect(await snapshot()).toEqual(before);
  });

  it('answers 404 for a wrong, expired or foreign upload id', async () => {
    expect((await confirm('00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await admin.get('/api/users/bulk-edit/not-a-uuid')).status).toBe(404);
    const rows = await exported();
    const edit = (await (await upload(csvOf([HEADER, edited(rows.get('Alice')!, { Department: 'Expired' })]))).json()) as Edit;
    expect(edit.status).toBe('ready');
    // Another account cannot read or confirm it.
    expect((await other.get(`/api/users/bulk-edit/${edit.id}`)).status).toBe(404);
    expect((await confirm(edit.id, other)).status).toBe(404);
    await db.updateTable('user_bulk_edits').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', edit.id).execute();
    expect((await admin.get(`/api/users/bulk-edit/${edit.id}`)).status).toBe(404);
    expect((await confirm(edit.id)).status).toBe(404);
    expect((await exported()).get('Alice')![6]).toBe('Finance');
  });
});

describe('moving users between sites with renumbering', () => {
  it('keeps the short extension when free, else refuses or gives the next free one, or the one typed; reports and audits each', async () => {
    // Paris (code 33) has Claire at 101 and Dan at 204. Main-site users to move:
    await addUser({ key: 'eve', first: 'Eve', last: 'Keep', email: 'eve@acme.example', ext: '207' });
    await addUser({ key: 'gus', first: 'Gus', last: 'Clash', email: 'gus@acme.example', ext: '1011' });
    await addUser({ key: 'hal', first: 'Hal', last: 'Taken', email: 'hal@acme.example', ext: '204', site: undefined });
    await addUser({ key: 'ivy', first: 'Ivy', last: 'Typed', email: 'ivy@acme.example', ext: '208' });
    const bulk = async (body: unknown) => {
      const res = await admin.json('POST', '/api/users/bulk', body);
      expect(res.status, JSON.stringify(body)).toBe(200);
      return ((await res.json()) as { results: unknown[] }).results;
    };
    // Refuse (the default): Hal's 204 is Dan's in Paris, Gus's 1011 would be 331011 (over 5 digits).
    expect(await bulk({ action: 'change_site', siteId: parisSiteId, userIds: [ids.eve, ids.hal, ids.gus] })).toEqual([
      { userId: ids.eve, result: 'changed' },
      { userId: ids.hal, result: 'refused', reason: 'extension_conflict' },
      { userId: ids.gus, result: 'refused', reason: 'extension_too_long' },
    ]);
    // Next free: Hal gets the next free short number after 204 on Paris, Gus the first free 3-digit one.
    expect(await bulk({ action: 'change_site', siteId: parisSiteId, renumber: 'next_free', userIds: [ids.hal, ids.gus] })).toEqual([
      { userId: ids.hal, result: 'changed', extension: { from: '204', to: '33205' } },
      { userId: ids.gus, result: 'changed', extension: { from: '1011', to: '33100' } },
    ]);
    // Typed: taken is refused, free is used.
    expect(await bulk({ action: 'change_site', siteId: parisSiteId, userIds: [ids.ivy], extensions: { [ids.ivy!]: '101' } })).toEqual([
      { userId: ids.ivy, result: 'refused', reason: 'extension_conflict' },
    ]);
    expect(await bulk({ action: 'change_site', siteId: parisSiteId, userIds: [ids.ivy], extensions: { [ids.ivy!]: '150' } })).toEqual([
      { userId: ids.ivy, result: 'changed', extension: { from: '208', to: '33150' } },
    ]);
    const now = await exported();
    expect(['Eve', 'Hal', 'Gus', 'Ivy'].map((n) => [now.get(n)![3], now.get(n)![7]])).toEqual([
      ['33207', 'Paris'],
      ['33205', 'Paris'],
      ['33100', 'Paris'],
      ['33150', 'Paris'],
    ]);
    const [moved] = await auditOf(ids.hal!, 'user.site_changed');
    expect(moved!.before).toEqual({ siteId: mainSiteId, extension: '204' });
    expect(moved!.after).toEqual({ siteId: parisSiteId, siteName: 'Paris', extension: '33205' });
    expect((await admin.json('POST', '/api/users/bulk', { action: 'change_site', siteId: parisSiteId, userIds: [ids.eve], extensions: { [ids.eve!]: 'abc' } })).status).toBe(400);
  });
});
