import pg from 'pg';

/** The machine's PostgreSQL when the test command found one (scripts/test.sh sets TEST_POSTGRES_URL). */
export const testPostgresUrl = (): string | undefined => process.env.TEST_POSTGRES_URL;

/** A throwaway database on that server, dropped by the returned function. */
export async function createScratchDatabase(baseUrl: string, label: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `carillon_${label}_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
