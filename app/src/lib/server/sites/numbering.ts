import type { Kysely } from 'kysely';
import type { Database } from '@carillon/db';
import { MAX_EXTENSION_LENGTH } from './sites.ts';

/**
 * The account's dialling plan as it would be after some moves (F000 12.10): every extension is
 * dialled by its full number, the site code followed by the short number, and no two extensions
 * of an account may be dialled the same. Changes are made here first, checked, then written.
 */
export interface PlanSite {
  id: string;
  name: string;
  siteCode: string | null;
}

interface PlanEntry {
  siteId: string;
  number: string;
}

export const fullNumber = (siteCode: string | null, short: string) => `${siteCode ?? ''}${short}`;

export class DialPlan {
  readonly sites: Map<string, PlanSite>;
  private readonly entries = new Map<string, PlanEntry>();
  /** Full number → the extensions dialled by it (more than one only in data older than this rule). */
  private readonly byFull = new Map<string, Set<string>>();

  constructor(sites: PlanSite[], extensions: { id: string; site_id: string; number: string }[]) {
    this.sites = new Map(sites.map((s) => [s.id, s]));
    for (const e of extensions) this.place(e.id, { siteId: e.site_id, number: e.number });
  }

  static async load(db: Kysely<Database>, accountId: string): Promise<DialPlan> {
    const [sites, extensions] = await Promise.all([
      db.selectFrom('sites').select(['id', 'name', 'site_code as siteCode']).where('account_id', '=', accountId).execute(),
      db.selectFrom('extensions').select(['id', 'site_id', 'number']).where('account_id', '=', accountId).execute(),
    ]);
    return new DialPlan(sites, extensions);
  }

  private fullOf(e: PlanEntry): string {
    return fullNumber(this.sites.get(e.siteId)?.siteCode ?? null, e.number);
  }

  private place(id: string, e: PlanEntry): void {
    const old = this.entries.get(id);
    if (old) this.byFull.get(this.fullOf(old))?.delete(id);
    this.entries.set(id, e);
    const full = this.fullOf(e);
    if (!this.byFull.has(full)) this.byFull.set(full, new Set());
    this.byFull.get(full)!.add(id);
  }

  get(id: string): (PlanEntry & { full: string }) | undefined {
    const e = this.entries.get(id);
    return e && { ...e, full: this.fullOf(e) };
  }

  /** Why `extensionId` cannot be dialled as `short` on `siteId`, or null when it can. */
  problem(extensionId: string, siteId: string, short: string): 'invalid' | 'too_long' | 'taken' | null {
    if (!/^[0-9]{1,9}$/.test(short)) return 'invalid';
    const full = fullNumber(this.sites.get(siteId)?.siteCode ?? null, short);
    if (full.length > MAX_EXTENSION_LENGTH) return 'too_long';
    const users = this.byFull.get(full);
    if (users && [...users].some((id) => id !== extensionId)) return 'taken';
    return null;
  }

  /** Other extensions dialled by the same full number as `extensionId` (none when the plan is sound). */
  clashes(extensionId: string): string[] {
    const e = this.get(extensionId);
    return e ? [...(this.byFull.get(e.full) ?? [])].filter((id) => id !== extensionId) : [];
  }

  move(extensionId: string, siteId: string, short: string): void {
    this.place(extensionId, { siteId, number: short });
  }

  /**
   * The first free short number on `siteId` after `near` with as many digits (the seed's renumbering
   * keeps extensions alike), wrapping round, then with fewer digits if the site code leaves no room.
   */
  nextFree(extensionId: string, siteId: string, near: string): string | null {
    const code = this.sites.get(siteId)?.siteCode ?? '';
    const room = MAX_EXTENSION_LENGTH - code.length;
    for (let digits = Math.min(Math.max(near.length, 3), room); digits >= 1; digits--) {
      const low = digits === 1 ? 1 : 10 ** (digits - 1);
      const high = 10 ** digits - 1;
      const start = near.length === digits ? Math.min(Math.max(Number(near), low), high) : low;
      for (let i = 0; i <= high - low; i++) {
        const n = low + ((start - low + i) % (high - low + 1));
        const short = String(n);
        if (this.problem(extensionId, siteId, short) === null) return short;
      }
    }
    return null;
  }
}
