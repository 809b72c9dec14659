import type { Kysely } from 'kysely';
import type { Database } from '@carillon/db';

/**
 * Which account's carrier a source address belongs to. Inbound calls from a
 * trunk are trusted by address (carriers do not answer our challenges), so
 * only the addresses an admin listed count. Reloaded at most every 10 s.
 */
export class TrunkDirectory {
  private readonly db: Kysely<Database>;
  private byAddr = new Map<string, { accountId: string; trunkId: string }>();
  private loadedAt = 0;
  private loading: Promise<void> | null = null;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async byAddress(address: string): Promise<{ accountId: string; trunkId: string } | null> {
    if (Date.now() - this.loadedAt > 10_000) await this.refresh();
    return this.byAddr.get(address.replace(/^::ffff:/, '')) ?? null;
  }

  /**
   * Without waiting: whether `address` is a trunk's, from the directory as
   * loaded; null when it was never loaded or is older than 10 s (the
   * database did not answer), so the caller takes the asynchronous way
   * (byAddress) and sees what byAddress would. keepFresh keeps it loaded.
   */
  isTrunkNow(address: string): boolean | null {
    return Date.now() - this.loadedAt > 10_000 ? null : this.byAddr.has(address.replace(/^::ffff:/, ''));
  }

  /**
   * Reloads the directory every `ms` in the background, so that isTrunkNow
   * answers a flood of INVITEs without one of them waiting for the database
   * (and a trunk an admin adds is known within `ms`). Returns the stop.
   */
  keepFresh(ms = 5_000): () => void {
    const timer = setInterval(() => void this.refresh().catch(() => undefined), ms);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Loads the directory now (once at a time). */
  refresh(): Promise<void> {
    return (this.loading ??= this.load().finally(() => (this.loading = null)));
  }

  private async load(): Promise<void> {
    const rows = await this.db.selectFrom('sip_trunks').select(['id', 'account_id', 'inbound_addresses']).where('enabled', '=', true).execute();
    const next = new Map<string, { accountId: string; trunkId: string }>();
    for (const r of rows) {
      const list = (typeof r.inbound_addresses === 'string' ? JSON.parse(r.inbound_addresses) : r.inbound_addresses) as string[];
      for (const a of list) next.set(a, { accountId: r.account_id, trunkId: r.id });
    }
    this.byAddr = next;
    this.loadedAt = Date.now();
  }

  invalidate(): void {
    this.loadedAt = 0;
  }
}
