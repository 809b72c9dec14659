import type { Config } from '@carillon/config';
import { createAccount } from '@carillon/core';
import type { Db } from '@carillon/db';

/**
 * First start of an empty database (and DEMO_ACCOUNT on): a demo company,
 * and its first admin's activation link printed for the operator, on purpose
 * not through the logger: it is how the first admin gets in.
 */
export async function createDemoAccountIfEmpty(db: Db, config: Config): Promise<void> {
  if (!config.DEMO_ACCOUNT) return;
  const accounts = await db.selectFrom('accounts').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  if (Number(accounts.n) !== 0) return;
  const demo = await createAccount(
    db,
    { company: 'Carillon Demo', email: 'admin@demo.carillon.localhost', firstName: 'Demo', lastName: 'Admin' },
    { activationTtlHours: config.ACTIVATION_TTL_HOURS },
  );
  process.stdout.write(
    `\n  Demo company created. Activate its first admin (valid ${config.ACTIVATION_TTL_HOURS} h):\n  ${config.publicUrl}/activate/${demo.activationToken}\n` +
      `  Main number ${demo.mainNumber}, extension ${demo.extension}, e-mail admin@demo.carillon.localhost\n\n`,
  );
}
