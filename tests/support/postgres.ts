import pg from 'pg';
import { inject } from 'vitest';

/** The machine's PostgreSQL when the test command found one (scripts/test.sh sets TEST_POSTGRES_URL). */
export const testPostgresUrl = (): string | undefined => process.env.TEST_POSTGRES_URL;

/**
 * A throwaway database on that server, dropped by the returned function. Under vitest it is a copy of the
 * run's migrated template (tests/support/global-setup.ts), so the product or the test finds its migrations
 * applied; elsewhere it is empty.
 */
export async function createScratchDatabase(baseUrl: string, label: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `carillon_${label}_${process.pid}_${Date.now().toString(36)}`;
  const template = migratedTemplate();
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`create database ${name}${template ? ` template ${template}` : ''}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      // A pool's end() resolves once it has *asked* its clients to end, not once their sockets
      // closed: a forced drop at that moment terminates a backend whose client is still ending,
      // and the client raises FATAL 57P01 with no listener left (an uncaught error in the test
      // process). Wait for the database's own backends to leave; force only what is left after.
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        const { rows } = await c.query<{ n: string }>('select count(*) as n from pg_stat_activity where datname = $1', [name]);
        if (Number(rows[0]!.n) === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

function migratedTemplate(): string | undefined {
  try {
    return inject('postgresTemplate') ?? undefined;
  } catch {
    // Not under vitest (a bench): no run, no template.
    return undefined;
  }
}

/**
 * Creates and migrates the run's template database (global setup), and drops templates that runs
 * killed before their teardown left behind more than six hours ago. Returns its name and the drop.
 */
export async function createMigratedTemplate(baseUrl: string, migrate: (url: string) => Promise<void>): Promise<{ name: string; drop: () => Promise<void> }> {
  const name = `carillon_template_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>("select datname from pg_database where datname like 'carillon\\_template\\_%'");
    for (const { datname } of rows) {
      const made = parseInt(datname.split('_').at(-1) ?? '', 36);
      if (Number.isFinite(made) && Date.now() - made > 6 * 3600_000) await admin.query(`drop database if exists ${datname} with (force)`);
    }
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  // Every connection to it is closed when migrate returns: a database being copied must have none.
  await migrate(url.toString());
  return {
    name,
    drop: async () => {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
