import type { Redis } from 'ioredis';
import { BINDING_KEY_PREFIX, readBindings, type Binding } from '@carillon/contracts/registrations';

export type { Binding };

/**
 * Bindings live in Redis, one hash per extension, so every media-server
 * node sees every device of an extension, and they expire with their
 * registration even if no node is left to clean up.
 */
export class BindingStore {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(redis: Redis, prefix = BINDING_KEY_PREFIX) {
    this.redis = redis;
    this.prefix = prefix;
  }

  private key(extensionId: string) {
    return this.prefix + extensionId;
  }

  static fieldOf(b: Pick<Binding, 'contact' | 'instance'>): string {
    return b.instance ?? b.contact;
  }

  async list(extensionId: string, now = Date.now()): Promise<Binding[]> {
    const { live, dead } = readBindings(await this.redis.hgetall(this.key(extensionId)), now);
    if (dead.length) await this.redis.hdel(this.key(extensionId), ...dead);
    return live.sort((a, b) => a.contact.localeCompare(b.contact));
  }

  /** Applies one REGISTER's additions and removals in a single round trip. */
  async apply(extensionId: string, upserts: Binding[], removals: string[]): Promise<void> {
    const key = this.key(extensionId);
    const multi = this.redis.multi();
    if (removals.length) multi.hdel(key, ...removals);
    if (upserts.length) {
      const flat: string[] = [];
      for (const b of upserts) flat.push(BindingStore.fieldOf(b), JSON.stringify(b));
      multi.hset(key, ...flat);
      const latest = Math.max(...upserts.map((b) => b.expiresAt));
      // The key lives as long as its longest binding; GT never shortens it.
      multi.pexpireat(key, latest, 'GT');
      multi.pexpireat(key, latest, 'NX');
    }
    await multi.exec();
  }

  async removeAll(extensionId: string): Promise<void> {
    await this.redis.del(this.key(extensionId));
  }
}
