/**
 * `npm run account:create -- --company "Acme" --email admin@acme.example [--first-name … --last-name …
 *  --country FR --language fr --main-number …]`: creates a company with its first admin and prints the
 * activation link. Works whether or not the product is running.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '@carillon/config';
import { createAccount, createAccountInput } from '@carillon/core';
import { migrateToLatest, openDatabase, openPostgres, type Db } from '@carillon/db';
import { runtimeFile } from './lib/database.ts';

const config = loadConfigOrExit();
const { values } = parseArgs({
  options: {
    company: { type: 'string' },
    email: { type: 'string' },
    'first-name': { type: 'string' },
    'last-name': { type: 'string' },
    country: { type: 'string' },
    language: { type: 'string' },
    'main-number': { type: 'string' },
    plan: { type: 'string' },
  },
});
const input = createAccountInput.safeParse({
  company: values.company,
  email: values.email,
  firstName: values['first-name'],
  lastName: values['last-name'],
  country: values.country,
  language: values.language,
  mainNumber: values['main-number'],
  plan: values.plan,
});
if (!input.success) {
  for (const issue of input.error.issues) process.stderr.write(`account:create: --${String(issue.path[0])}: ${issue.message}\n`);
  process.stderr.write('usage: npm run account:create -- --company "Name" --email admin@example.com\n');
  process.exit(2);
}

/** While the product runs on PGlite, only its process may open the files: go through its socket instead. */
function runningDatabaseUrl(): string | undefined {
  try {
    const rt = JSON.parse(fs.readFileSync(runtimeFile(config.dataDir), 'utf8')) as { pid: number; databaseUrl: string };
    process.kill(rt.pid, 0);
    return rt.databaseUrl;
  } catch {
    return undefined;
  }
}

const url = config.DATABASE_URL ?? runningDatabaseUrl();
const db: Db = url ? openPostgres(url, 2) : await openDatabase({ dataDir: config.dataDir });
await migrateToLatest(db);
try {
  const created = await createAccount(db, input.data, { activationTtlHours: config.ACTIVATION_TTL_HOURS });
  process.stdout.write(
    `Company "${input.data.company}" created.\nActivation link for ${input.data.email} (valid ${config.ACTIVATION_TTL_HOURS} h):\n${config.publicUrl}/activate/${created.activationToken}\n` +
      `Main number ${created.mainNumber}, extension ${created.extension}\n`,
  );
} catch (err) {
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`account:create: ${/users_login_email_unique/.test(msg) ? 'this e-mail already signs in to another account' : msg}\n`);
  process.exitCode = 1;
} finally {
  await db.destroy();
}
