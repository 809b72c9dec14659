import type { SipDeviceCredential } from '@carillon/core';
import { LoadingCache } from '../cache/loading-cache.ts';

/** Where the registrar and the call engine look device credentials up. */
export interface CredentialSource {
  get(username: string): Promise<SipDeviceCredential | null>;
}

/**
 * Device credentials by SIP user name, cached briefly: a REGISTER refresh
 * should not cost a database query, and a flood of unknown names should not
 * reach the database at all (negative entries are cached too).
 */
export class CredentialCache extends LoadingCache<SipDeviceCredential> implements CredentialSource {
  constructor(load: (username: string) => Promise<SipDeviceCredential | null>, ttlMs = 30_000, negativeTtlMs = 5_000) {
    super(load, ttlMs, negativeTtlMs);
  }
}
