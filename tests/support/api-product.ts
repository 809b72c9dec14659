import { expect } from 'vitest';
import { openPostgres, type Db } from '@carillon/db';
import { startProduct, type RunningProduct } from './product.ts';
import { activate, HttpClient } from './http-client.ts';
import { createStandardUsers } from './softphone-users.ts';
import { createScratchDatabase, testPostgresUrl } from './postgres.ts';

export interface ApiProduct extends ActivatedProduct {
  /** The standard users named in `signIn`, signed in, by name. */
  users: Record<string, HttpClient>;
  /** A second account's administrator, signed in: for another tenant's ids. */
  other: HttpClient;
}

/** The product activated on a scratch database, with standard users: what API and admin-page tests share. */
export interface ActivatedProduct {
  product: RunningProduct;
  db: Db;
  /** The first account's administrator (`admin@demo.carillon.localhost`), signed in. */
  admin: HttpClient;
  accountId: string;
  /** The standard users' extension ids, by extension number. */
  extensions: Record<string, string>;
  /** Stops the product and drops the scratch database; the product's exit code. */
  stop(): Promise<number | null>;
}

/**
 * The product on a scratch database of the test PostgreSQL when there is one (else its embedded
 * database), activated (the administrator's password is `STRONG.password`), with standard users
 * (`<name>@demo.carillon.localhost`) whose password is `password`.
 */
export async function startActivatedProduct(options: { scratchName: string; env?: Record<string, string>; users?: { extension: string; name: string }[]; password: string }): Promise<ActivatedProduct> {
  const pgUrl = testPostgresUrl();
  const scratch = pgUrl ? await createScratchDatabase(pgUrl, options.scratchName) : undefined;
  const product = await startProduct({ ...(options.env ?? {}), ...(scratch ? { DATABASE_URL: scratch.url } : {}) });
  const db = openPostgres(product.databaseUrl(), 2);
  const admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  const accountId = ((await (await admin.get('/api/me')).json()) as { accountId: string }).accountId;
  const people = options.users ?? [];
  await createStandardUsers(db, people.map((u) => ({ ...u, password: options.password })));
  const extensions: Record<string, string> = {};
  if (people.length) {
    for (const row of await db.selectFrom('extensions').select(['id', 'number']).where('account_id', '=', accountId).where('number', 'in', people.map((u) => u.extension)).execute()) extensions[row.number] = row.id;
  }
  return {
    product,
    db,
    admin,
    accountId,
    extensions,
    async stop() {
      await db.destroy();
      const code = await product.stop();
      await scratch?.drop();
      return code;
    },
  };
}

/**
 * The product as most API tests need it (`startActivatedProduct`), with the standard users named in
 * `signIn` signed in, and a second account ("Beta Corp") whose administrator is signed in too.
 */
export async function startApiProduct(options: { scratchName: string; env?: Record<string, string>; users?: { extension: string; name: string }[]; signIn?: string[]; password: string }): Promise<ApiProduct> {
  const started = await startActivatedProduct(options);
  const { product } = started;
  const users: Record<string, HttpClient> = {};
  for (const u of (options.users ?? []).filter((p) => options.signIn?.includes(p.name))) {
    const client = new HttpClient(product.url);
    expect((await client.form('/login', { identifier: `${u.name}@demo.carillon.localhost`, password: options.password })).status).toBe(303);
    users[u.name] = client;
  }
  const created = await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example']);
  const other = new HttpClient(product.url);
  expect((await activate(other, created.link)).status).toBe(303);
  return { ...started, users, other };
}
