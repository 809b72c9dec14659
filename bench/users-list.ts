/**
 * The admin Users list on a large account (issue 5: "an account with 10,000
 * users and extensions. List, search and filter answer in under 200 ms p95
 * server-side"). The product runs as `npm start` runs it (scripts/run-all.ts)
 * on a scratch PostgreSQL database; its demo account gets N users with their
 * extensions (over three sites, two with site codes) and direct numbers, and a
 * second account gets as many, so that every query has to pick one account's
 * rows out of twice as many. Then each kind of request is sent M times, one at
 * a time, to GET /api/users over loopback HTTP (the time includes the app's
 * session check and JSON encoding), and the same query is timed by calling
 * the server function directly (the database part alone).
 *
 *   npm run build   # the product serves the built app
 *   npx node bench/users-list.ts [users, default 10000] [requests per kind, default 200]
 *
 * Needs PostgreSQL on 127.0.0.1:5432 (BENCH_PG_URL to change it); PGlite otherwise.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { permissionsOfPredefinedRole } from '@carillon/domain';
import { openPostgres, sql, type Db } from '@carillon/db';
import type { AuthenticatedSession } from '@carillon/core';
import { listUsersPage, usersListQuery } from '../app/src/lib/server/users/list.ts';
import { startProduct } from '../tests/support/product.ts';
import { activate, HttpClient } from '../tests/support/http-client.ts';
import { createScratchDatabase } from '../tests/support/postgres.ts';

const USERS = Number(process.argv[2] ?? 10_000);
const REQUESTS = Number(process.argv[3] ?? 200);
const PG = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function postgresAnswers(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG, connectionTimeoutMillis: 1000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

const FIRST = ['Alice', 'Albert', 'Amélie', 'Bruno', 'Camille', 'Chloé', 'David', 'Emma', 'Éric', 'Fanny', 'Gabriel', 'Hugo', 'Inès', 'Jade', 'Jules', 'Karim', 'Léa', 'Louis', 'Manon', 'Marc', 'Nina', 'Noah', 'Olivia', 'Paul', 'Quentin', 'Rose', 'Sacha', 'Sarah', 'Théo', 'Victor'];
const LAST = ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau', 'Simon', 'Laurent', 'Lefebvre', 'Michel', 'Garcia', 'David', 'Bertrand', 'Roux', 'Vincent', 'Fournier', 'Morel', 'Girard', 'André', 'Lefèvre', 'Mercier', 'Dupont', 'Lambert', 'Bonnet', 'François', 'Martinez', 'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Miller', 'Davis', 'Wilson', 'Anderson', 'Taylor'];
const DEPARTMENTS = ['Sales', 'Support', 'Engineering', 'Finance', 'Marketing', 'Operations', 'Legal', 'HR', 'Logistics', 'Purchasing', 'Quality', 'IT'];

/** N users with extensions and direct numbers in one account, inserted 1,000 rows at a time. */
async function seedUsers(db: Db, accountId: string, n: number, numberBase: number, tag: string) {
  const main = await db.selectFrom('sites').select('id').where('account_id', '=', accountId).where('is_main', '=', true).executeTakeFirstOrThrow();
  const lyon = await db.insertInto('sites').values({ account_id: accountId, name: `Lyon ${tag}`, site_code: '2' }).returning('id').executeTakeFirstOrThrow();
  const nice = await db.insertInto('sites').values({ account_id: accountId, name: `Nice ${tag}`, site_code: '3' }).returning('id').executeTakeFirstOrThrow();
  const sites = [main.id, lyon.id, nice.id];
  const roles = Object.fromEntries((await db.selectFrom('roles').select(['id', 'key']).where('key', 'is not', null).execute()).map((r) => [r.key!, r.id]));
  for (let start = 0; start < n; start += 1000) {
    const extensions = [];
    const users = [];
    const numbers = [];
    for (let i = start; i < Math.min(n, start + 1000); i++) {
      const extId = randomUUID();
      const first = FIRST[i % FIRST.length]!;
      const last = LAST[Math.floor(i / FIRST.length) % LAST.length]!;
      const r = i % 100;
      extensions.push({ id: extId, account_id: accountId, site_id: sites[i % 3]!, number: String(1000 + Math.floor(i / 3)), type: 'user' as const, status: r < 80 ? ('activated' as const) : r < 95 ? ('not_activated' as const) : ('disabled' as const) });
      users.push({
        account_id: accountId,
        extension_id: extId,
        role_id: roles[i % 50 === 0 ? 'user_admin' : i % 10 === 0 ? 'manager' : 'standard_international']!,
        first_name: first,
        last_name: last,
        email: `${first.toLowerCase()}.${last.toLowerCase()}.${i}@${tag}.example`,
        email_login: false,
        department: DEPARTMENTS[i % DEPARTMENTS.length]!,
        setup_progress: JSON.stringify({}),
      });
      numbers.push({ account_id: accountId, e164: `+1${numberBase + i}`, type: 'direct' as const, extension_id: extId });
    }
    await db.insertInto('extensions').values(extensions).execute();
    await db.insertInto('users').values(users).execute();
    await db.insertInto('phone_numbers').values(numbers).execute();
  }
  return { sites, roles };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

const scratch = (await postgresAnswers()) ? await createScratchDatabase(PG, 'benchusers') : undefined;
const product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), LOG_LEVEL: 'info' }).catch(async (err: unknown) => {
  await scratch?.drop();
  throw err;
});
const db = openPostgres(product.databaseUrl(), 2);
try {
  const client = new HttpClient(product.url);
  if ((await activate(client, product.activationLink)).status !== 303) throw new Error('activation failed');
  const me = (await (await client.get('/api/me')).json()) as { id: string; accountId: string };
  const t0 = performance.now();
  const { sites, roles } = await seedUsers(db, me.accountId, USERS, 4_085_550_000, 'acme');
  const other = await db.insertInto('accounts').values({ company_name: 'Other Corp' }).returning('id').executeTakeFirstOrThrow();
  await db.insertInto('sites').values({ account_id: other.id, name: 'Main', is_main: true }).execute();
  await seedUsers(db, other.id, USERS, 3_125_550_000, 'other');
  // What autovacuum would have done by the time an account is this size.
  await sql`analyze`.execute(db);
  console.log(
    `database: ${scratch ? 'PostgreSQL' : 'PGlite (served on loopback)'}; ${os.cpus().length} cores; node ${process.version}; ` +
      `seeded 2 × ${USERS} users with extensions and numbers in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );

  const user = await db.selectFrom('users').selectAll().where('id', '=', me.id).executeTakeFirstOrThrow();
  const account = await db.selectFrom('accounts').selectAll().where('id', '=', me.accountId).executeTakeFirstOrThrow();
  const auth = { sessionId: 'bench', user, account, extensionNumber: '101', permissions: permissionsOfPredefinedRole('super_admin'), idleExpiresAt: new Date(Date.now() + 3600_000) } satisfies AuthenticatedSession;

  const kinds: [string, string][] = [
    ['list, first page (50, by name)', ''],
    ['list, page 100 (offset 4,950)', 'offset=4950'],
    ['list sorted by extension, descending', 'sort=extension&order=desc'],
    ['search first name prefix "ma"', 'q=ma'],
    ['search full name "camille rob"', 'q=camille%20rob'],
    ['search e-mail prefix "sarah.smith"', 'q=sarah.smith'],
    ['search extension "2345"', 'q=2345'],
    ['search full extension "31234" (site 3)', 'q=31234'],
    ['search phone digits "5556789"', 'q=5556789'],
    ['search with no match "zzz"', 'q=zzz'],
    ['filter status disabled', 'status=disabled'],
    ['filter role manager', `role=${roles.manager}`],
    ['filter department Finance', 'department=Finance'],
    ['filter site Lyon', `site=${sites[1]}`],
    ['filters combined + search', `status=activated&department=Sales&site=${sites[0]}&q=a`],
  ];
  const rows: string[] = [];
  for (const [label, query] of kinds) {
    const http: number[] = [];
    const direct: number[] = [];
    let total = 0;
    const parsed = usersListQuery.parse(Object.fromEntries(new URLSearchParams(query)));
    for (let i = 0; i < 10; i++) await client.get(`/api/users?${query}`); // warm-up
    for (let i = 0; i < REQUESTS; i++) {
      const a = performance.now();
      const res = await client.get(`/api/users?${query}`);
      const body = (await res.json()) as { total: number };
      http.push(performance.now() - a);
      if (res.status !== 200) throw new Error(`${label}: HTTP ${res.status}`);
      total = body.total;
      const b = performance.now();
      await listUsersPage(db, auth, parsed);
      direct.push(performance.now() - b);
    }
    http.sort((x, y) => x - y);
    direct.sort((x, y) => x - y);
    const fmt = (v: number) => v.toFixed(1);
    rows.push(`| ${label} | ${total} | ${fmt(quantile(http, 0.5))} | ${fmt(quantile(http, 0.95))} | ${fmt(quantile(direct, 0.5))} | ${fmt(quantile(direct, 0.95))} |`);
    console.log(rows.at(-1));
  }
  console.log(`\n${REQUESTS} requests per kind, one at a time, ms:\n`);
  console.log('| request | matches | HTTP p50 | HTTP p95 | query p50 | query p95 |\n| --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
} finally {
  await db.destroy();
  await product.stop();
  await scratch?.drop();
}
