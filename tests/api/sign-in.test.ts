import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '@carillon/core';
import { openPostgres, type Db } from '@carillon/db';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';

/**
 * The sign-in and forgot-password pages as a stranger sees them (issue 20,
 * point 10): neither the identifier step, nor the password step, nor the
 * reset request tells whether an account exists. An unknown e-mail gets the
 * password step, the same "do not match" answers counted down, and the same
 * lockout as a real one.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
const KNOWN = 'nora@acme.example';
const PARALLEL = 'pia@acme.example';
const PASSWORD = 'Meadow5Lantern';

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'signin');
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), LOGIN_IP_MAX_PER_MINUTE: '1000' });
  db = openPostgres(product.databaseUrl(), 2);
  const admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  const me = (await (await admin.get('/api/me')).json()) as { accountId: string; siteId: string };
  const role = await db.selectFrom('roles').select('id').where('key', '=', 'standard').executeTakeFirstOrThrow();
  for (const [email, number] of [[KNOWN, '240'], [PARALLEL, '241']] as const) {
    const ext = await db.insertInto('extensions').values({ account_id: me.accountId, site_id: me.siteId, number, type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
    const user = await db
      .insertInto('users')
      .values({ account_id: me.accountId, extension_id: ext.id, role_id: role.id, first_name: 'Known', last_name: number, email, setup_progress: JSON.stringify({}) })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db.insertInto('user_credentials').values({ user_id: user.id, password_hash: await hashSecret(PASSWORD) }).execute();
  }
}, 120_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

/** What the page shows after a post: its status and the error or notice, as text, times masked. */
async function shown(res: Response): Promise<{ status: number; message: string; passwordStep: boolean }> {
  const html = await res.text();
  const block = html.match(/<p class="alert[^"]*"[^>]*>([\s\S]*?)<\/p>/)?.[1] ?? '';
  const message = block
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\d{2}:\d{2}/g, 'HH:MM')
    .replace(/\s+/g, ' ')
    .trim();
  return { status: res.status, message, passwordStep: /name="password"/.test(html) };
}

const signIn = (identifier: string, password?: string) => new HttpClient(product.url).form('/login', { identifier, ...(password === undefined ? {} : { password }) });

describe('sign-in and reset answers', () => {
  it('shows the password step for an unknown e-mail as for a known one', async () => {
    const known = await shown(await signIn(KNOWN));
    expect(known).toMatchObject({ status: 200, passwordStep: true });
    expect(await shown(await signIn(`nobody.${Date.now()}@acme.example`))).toEqual(known);
  });

  it('answers wrong passwords for an unknown e-mail exactly as for a known one, through to the lockout', async () => {
    const unknown = `ghost.${Date.now()}@acme.example`;
    const series = async (identifier: string) => {
      const out = [];
      for (let i = 0; i < 6; i++) out.push(await shown(await signIn(identifier, 'Wrong7Guess')));
      return out;
    };
    const known = await series(KNOWN);
    expect(known.map((a) => a.status)).toEqual([401, 401, 401, 401, 423, 423]);
    expect(known[0]!.message).toContain('4 attempt(s) left');
    expect(await series(unknown)).toEqual(known);
    // Locked: even the right password is refused, with the same answer.
    expect(await shown(await signIn(KNOWN, PASSWORD))).toEqual(known[5]);
  });

  it('answers a reset request the same for an unknown e-mail as for a known one', async () => {
    const ask = (identifier: string) => new HttpClient(product.url).form('/forgot-password?/email', { identifier });
    const known = await shown(await ask(KNOWN));
    expect(known.message).toContain('If an account matches');
    expect(await shown(await ask(`nobody.${Date.now()}@acme.example`))).toEqual(known);
  });

  it('evaluates at most the limit of 50 parallel wrong passwords: the rest, and then the right password, are refused as locked', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, () => signIn(PARALLEL, 'Wrong7Guess').then((r) => r.status)));
    // LOGIN_MAX_FAILURES is 5: four "wrong" answers, the fifth locks, 45 never get their password checked.
    expect(answers.filter((s) => s === 401)).toHaveLength(4);
    expect(answers.filter((s) => s === 423)).toHaveLength(46);
    expect((await signIn(PARALLEL, PASSWORD)).status).toBe(423);
    const user = await db.selectFrom('users').select('id').where('email', '=', PARALLEL).executeTakeFirstOrThrow();
    expect(await db.selectFrom('audit_events').select('id').where('action', '=', 'user.locked_out').where('target_id', '=', user.id).execute()).toHaveLength(1);
  });
});
