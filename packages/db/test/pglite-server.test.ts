import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PGlite } from '@electric-sql/pglite';
import { openPglite, servePglite } from '@carillon/db';

/**
 * PGlite is one session. The product serves it to the app, media-server and
 * workers over the wire protocol, so queries and transactions of separate
 * connections must not interleave inside that session.
 */

let pglite: PGlite;
let server: { url: string; stop: () => Promise<void> };
const pools: pg.Pool[] = [];

beforeAll(async () => {
  ({ pglite } = await openPglite(null));
  server = await servePglite(pglite);
  await pglite.exec('create table ledger (id serial primary key, who text not null, n int not null)');
  for (let i = 0; i < 4; i++) pools.push(new pg.Pool({ connectionString: server.url, max: 3 }));
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await server?.stop();
  await pglite?.close();
});

describe('PGlite served over the wire protocol', () => {
  it('keeps concurrent parameterised queries of different connections apart', async () => {
    const runs: Promise<void>[] = [];
    for (let i = 0; i < 240; i++) {
      const pool = pools[i % pools.length]!;
      const arity = 1 + (i % 5);
      // Every third query carries a parameter large enough to reach the server in several TCP chunks.
      const params: (number | string)[] = Array.from({ length: arity }, (_, k) => i * 10 + k);
      if (i % 3 === 0) params.push(`${i}:`.padEnd(200_000, 'x'));
      const columns = params.map((p, k) => `$${k + 1}::${typeof p === 'string' ? 'text' : 'int'} as c${k}`).join(', ');
      runs.push(
        pool.query(`select ${columns}`, params).then((res) => {
          expect(res.rows).toHaveLength(1);
          expect(Object.values(res.rows[0] as Record<string, number | string>)).toEqual(params);
        }),
      );
    }
    await Promise.all(runs);
  });

  it('runs each connection’s transaction without statements of another connection inside it', async () => {
    const transaction = async (pool: pg.Pool, who: string, rollback: boolean): Promise<void> => {
      const client = await pool.connect();
      try {
        await client.query('begin');
        for (let n = 0; n < 5; n++) {
          await client.query('insert into ledger (who, n) values ($1, $2)', [who, n]);
          await new Promise((r) => setImmediate(r));
        }
        // Another connection's write must not be visible nor land in this transaction.
        const mine = await client.query<{ c: string }>('select count(*)::text as c from ledger where who = $1', [who]);
        expect(mine.rows[0]!.c).toBe('5');
        await client.query(rollback ? 'rollback' : 'commit');
      } finally {
        client.release();
      }
    };
    const outside = async (pool: pg.Pool, who: string): Promise<void> => {
      for (let n = 0; n < 5; n++) await pool.query('insert into ledger (who, n) values ($1, $2)', [who, n]);
    };
    const runs: Promise<void>[] = [];
    for (let i = 0; i < 16; i++) {
      const pool = pools[i % pools.length]!;
      runs.push(i % 3 === 2 ? outside(pool, `o${i}`) : transaction(pool, `t${i}`, i % 3 === 1));
    }
    await Promise.all(runs);
    const res = await pools[0]!.query<{ who: string; c: number }>(
      'select who, count(*)::int as c from ledger group by who order by who',
    );
    const expected = Array.from({ length: 16 }, (_, i) => i)
      .filter((i) => i % 3 !== 1)
      .map((i) => ({ who: i % 3 === 2 ? `o${i}` : `t${i}`, c: 5 }))
      .sort((a, b) => (a.who < b.who ? -1 : 1));
    expect(res.rows).toEqual(expected);
  });

  it('rolls back and releases the session when a client disconnects inside a transaction', async () => {
    const client = new pg.Client({ connectionString: server.url });
    client.on('error', () => undefined); // the abrupt end below is the point of the test
    await client.connect();
    await client.query('begin');
    await client.query('insert into ledger (who, n) values ($1, $2)', ['gone', 1]);
    const waiting = pools[1]!.query<{ c: number }>("select count(*)::int as c from ledger where who = 'gone'");
    (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    const res = await waiting;
    expect(res.rows[0]!.c).toBe(0);
    const after = await pools[2]!.query<{ s: string }>('select $1::text as s', ['still works']);
    expect(after.rows[0]!.s).toBe('still works');
  });
});

describe('PGlite served with a password', () => {
  const withPassword = (password: string | null) => {
    const url = new URL(server.url);
    url.password = password ?? '';
    return url.toString();
  };
  const connect = async (connectionString: string) => {
    const client = new pg.Client({ connectionString });
    try {
      await client.connect();
      return (await client.query<{ one: number }>('select 1 as one')).rows[0]!.one;
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  it('refuses a connection without the password or with a wrong one, and serves one with it', async () => {
    expect(new URL(server.url).password).not.toBe('');
    await expect(connect(withPassword(null))).rejects.toThrow(/password/);
    await expect(connect(withPassword('not-the-password'))).rejects.toThrow(/password authentication failed/);
    expect(await connect(server.url)).toBe(1);
  });
});
