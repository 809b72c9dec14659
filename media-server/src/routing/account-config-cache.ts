import { AccountCache, type AccountCacheOptions } from '../cache/account-cache.ts';
import type { AccountConfig } from './account-config.ts';

export type AccountConfigCacheOptions = AccountCacheOptions;

/** Each account's routing snapshot (`AccountConfig`): what the dial plan reads, so that a call in steady state reads nothing from the database. */
export class AccountConfigCache extends AccountCache<AccountConfig> {}
