import type { SipDeviceCredential } from '@carillon/core';

/**
 * Device credentials by SIP user name, cached briefly: a REGISTER refresh
 * should not cost a database query, and a flood of unknown names should not
 * reach the database at all (negative entries are cached too).
 */
export class CredentialCache {
  private readonly entries = new Map<string, { value: SipDeviceCredential | null; at: number }>();
  private readonly load: (username: string) => Promise<SipDeviceCredential | null>;
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;

  constructor(load: (username: string) => Promise<SipDeviceCredential | null>, ttlMs = 30_000, negativeTtlMs = 5_000) {
    this.load = load;
    this.ttlMs = ttlMs;
    this.negativeTtlMs = negativeTtlMs;
  }

  async get(username: string, now = Date.now()): Promise<SipDeviceCredential | null> {
    const hit = this.entries.get(username);
    if (hit && now - hit.at < (hit.value ? this.ttlMs : this.negativeTtlMs)) return hit.value;
    const value = await this.load(username);
    if (this.entries.size > 50_000) this.entries.clear();
    this.entries.set(username, { value, at: now });
    return value;
  }

  invalidate(username: string): void {
    this.entries.delete(username);
  }
}
