import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '@carillon/db';

/** Seed 003: "Vous avez 10 minutes pour sélectionner vos numéros de téléphone." */
export const RESERVATION_MINUTES = 10;

export interface PoolNumber {
  e164: string;
  country: string;
  areaCode: string;
  locality: string | null;
  kind: 'local' | 'toll_free';
}

export interface PoolSearch {
  country: string;
  areaCode?: string | undefined;
  kind: 'local' | 'toll_free';
  limit: number;
}

export interface HeldNumber extends PoolNumber {
  expiresAt: Date;
}

/** Why a provider refused: someone else holds the number, or this account's hold has lapsed. */
export class NumberUnavailableError extends Error {
  readonly reason: 'taken' | 'not_reserved';
  readonly numbers: string[];
  constructor(reason: 'taken' | 'not_reserved', numbers: string[]) {
    super(`${reason}: ${numbers.join(', ')}`);
    this.reason = reason;
    this.numbers = numbers;
  }
}

/**
 * A carrier's number inventory: what can be searched, held for an account for
 * a while, let go, and finally bought. The embedded default is LocalNumberPool;
 * a real carrier's API would sit behind the same four calls.
 */
export interface NumberProvider {
  search(accountId: string, q: PoolSearch): Promise<PoolNumber[]>;
  /** All or nothing: a number another account holds refuses the whole request. */
  reserve(accountId: string, e164s: string[]): Promise<HeldNumber[]>;
  reservations(accountId: string): Promise<HeldNumber[]>;
  release(accountId: string, e164s: string[]): Promise<string[]>;
  /** Takes numbers this account holds out of the pool, inside the caller's transaction. */
  purchase(trx: Transaction<Database>, accountId: string, e164s: string[]): Promise<PoolNumber[]>;
}

export type Clock = () => Date;

const plusMinutes = (d: Date, m: number) => new Date(d.getTime() + m * 60_000);

/**
 * The pool as a table: a reservation is a row unique per pool number, so two
 * accounts reserving the same number at once cannot both win, and a lapsed
 * one is simply ignored (and replaced) once the clock passes its end.
 */
export class LocalNumberPool implements NumberProvider {
  private readonly db: Kysely<Database>;
  private readonly clock: Clock;
  constructor(db: Kysely<Database>, clock: Clock = () => new Date()) {
    this.db = db;
    this.clock = clock;
  }

  async search(accountId: string, q: PoolSearch): Promise<PoolNumber[]> {
    const now = this.clock();
    let query = this.db
      .selectFrom('number_pool')
      .select(['e164', 'country', 'area_code as areaCode', 'locality', 'kind'])
      .where('country', '=', q.country)
      .where('kind', '=', q.kind)
      // Held by another account and not lapsed: not offered.
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('number_reservations')
              .select(sql`1`.as('one'))
              .whereRef('number_reservations.pool_number_id', '=', 'number_pool.id')
              .where('number_reservations.account_id', '<>', accountId)
              .where('number_reservations.expires_at', '>', now),
          ),
        ),
      )
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('phone_numbers').select(sql`1`.as('one')).whereRef('phone_numbers.e164', '=', 'number_pool.e164'))))
      .orderBy('e164')
      .limit(q.limit);
    if (q.areaCode) query = query.where('area_code', '=', q.areaCode);
    return query.execute();
  }

  async reserve(accountId: string, e164s: string[]): Promise<HeldNumber[]> {
    const now = this.clock();
    const expiresAt = plusMinutes(now, RESERVATION_MINUTES);
    return this.db.transaction().execute(async (trx) => {
      const pool = await trx.selectFrom('number_pool').select(['id', 'e164']).where('e164', 'in', e164s).execute();
      const missing = e164s.filter((n) => !pool.some((p) => p.e164 === n));
      if (missing.length) throw new NumberUnavailableError('taken', missing);
      const ids = pool.map((p) => p.id);
      // A lapsed hold, whoever had it, no longer counts.
      await trx.deleteFrom('number_reservations').where('pool_number_id', 'in', ids).where('expires_at', '<=', now).execute();
      // This account's own live holds start their 10 minutes again.
      await trx.updateTable('number_reservations').set({ expires_at: expiresAt }).where('pool_number_id', 'in', ids).where('account_id', '=', accountId).execute();
      const inserted = await trx
        .insertInto('number_reservations')
        .values(ids.map((id) => ({ account_id: accountId, pool_number_id: id, expires_at: expiresAt })))
        .onConflict((oc) => oc.column('pool_number_id').doNothing())
        .returning('pool_number_id')
        .execute();
      const mine = await trx
        .selectFrom('number_reservations')
        .select('pool_number_id')
        .where('pool_number_id', 'in', ids)
        .where('account_id', '=', accountId)
        .execute();
      const held = new Set([...inserted, ...mine].map((r) => r.pool_number_id));
      const taken = pool.filter((p) => !held.has(p.id)).map((p) => p.e164);
      // Throwing rolls the transaction back: nothing of the request stays held.
      if (taken.length) throw new NumberUnavailableError('taken', taken);
      const owned = await trx.selectFrom('phone_numbers').select('e164').where('e164', 'in', e164s).execute();
      if (owned.length) throw new NumberUnavailableError('taken', owned.map((o) => o.e164));
      return this.heldQuery(trx, accountId, now).where('number_pool.id', 'in', ids).execute();
    });
  }

  reservations(accountId: string): Promise<HeldNumber[]> {
    return this.heldQuery(this.db, accountId, this.clock()).execute();
  }

  async release(accountId: string, e164s: string[]): Promise<string[]> {
    if (!e164s.length) return [];
    const rows = await this.db
      .deleteFrom('number_reservations')
      .where('account_id', '=', accountId)
      .where('pool_number_id', 'in', (eb) => eb.selectFrom('number_pool').select('id').where('e164', 'in', e164s))
      .returning('pool_number_id')
      .execute();
    if (!rows.length) return [];
    const released = await this.db.selectFrom('number_pool').select('e164').where('id', 'in', rows.map((r) => r.pool_number_id)).execute();
    return released.map((r) => r.e164);
  }

  async purchase(trx: Transaction<Database>, accountId: string, e164s: string[]): Promise<PoolNumber[]> {
    const held = await this.heldQuery(trx, accountId, this.clock()).where('number_pool.e164', 'in', e164s).execute();
    const lapsed = e164s.filter((n) => !held.some((h) => h.e164 === n));
    if (lapsed.length) throw new NumberUnavailableError('not_reserved', lapsed);
    // Bought numbers leave the pool (their reservations go with them).
    await trx.deleteFrom('number_pool').where('e164', 'in', e164s).execute();
    return held.map(({ expiresAt: _e, ...n }) => n);
  }

  private heldQuery(db: Kysely<Database>, accountId: string, now: Date) {
    return db
      .selectFrom('number_reservations')
      .innerJoin('number_pool', 'number_pool.id', 'number_reservations.pool_number_id')
      .select(['number_pool.e164', 'number_pool.country', 'number_pool.area_code as areaCode', 'number_pool.locality', 'number_pool.kind', 'number_reservations.expires_at as expiresAt'])
      .where('number_reservations.account_id', '=', accountId)
      .where('number_reservations.expires_at', '>', now)
      .orderBy('number_pool.e164');
  }
}
