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
