import type { ConfigChange, ConfigSubject } from '@carillon/contracts/config-changes';

/**
 * Announces that an account's configuration changed (contracts/config-changes.ts),
 * so that media-server drops what it cached of it. Called by the core functions
 * that write that configuration, once their write is committed (never from
 * inside a transaction: a node reloading before the commit would cache the old
 * value again). The process installs where announcements go (the app: a Redis
 * publish); a process that installed nothing (a script, a test) announces nothing.
 */
export type ConfigChangeSink = (change: ConfigChange) => Promise<unknown>;

// On globalThis: the app's server entry and its SvelteKit bundle each load this module.
const KEY = Symbol.for('carillon.core.config-change-sink');
type Holder = { [KEY]?: ConfigChangeSink };

export function installConfigChangeSink(sink: ConfigChangeSink | null): void {
  const g = globalThis as Holder;
  if (sink) g[KEY] = sink;
  else delete g[KEY];
}

/** Never throws: the change is committed; a lost announcement only waits out the caches' TTL. */
export async function announceConfigChange(accountId: string, ...subjects: ConfigSubject[]): Promise<void> {
  const sink = (globalThis as Holder)[KEY];
  if (!sink) return;
  await sink({ accountId, subjects }).catch(() => undefined);
}
