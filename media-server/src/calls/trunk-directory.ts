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
   * loaded; null when it was never loaded or is older than 10 s, so the
   * caller takes the asynchronous way (byAddress) and sees what byAddress
   * would. A reload starts from 8 s on, so that steady traffic never finds
   * it stale.
   */
  isTrunkNow(address: string): boolean | null {
    const age = Date.now() - this.loadedAt;
    if (age > 8_000) void this.refresh().catch(() => undefined);
    return age > 10_000 ? null : this.byAddr.has(address.replace(/^::ffff:/, ''));
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
