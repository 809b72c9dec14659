/** Limits of the subscription table: a remote peer grows it, so it is bounded. */
export interface SubscriptionLimits {
  /** Subscriptions one device may hold at once. */
  perDevice: number;
  /** Subscriptions on this node at once. */
  total: number;
}

/** Why a new subscription was refused. */
export type SubscriptionRefusal = 'device_full' | 'table_full';

interface Entry<T> {
  value: T;
  deviceId: string;
  timer: NodeJS.Timeout;
}

/**
 * Subscriptions by dialog id (RFC 6665 §4.1: a subscription is identified by its
 * dialog and Event), each with its expiry timer: a subscription the subscriber
 * does not refresh in time is removed (§4.2.2: the notifier "removes the
 * subscription" when it expires) and `onExpired` is told, once. Bounded per
 * device and overall: past either, `add` refuses and says which.
 */
export class SubscriptionTable<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #perDevice = new Map<string, number>();
  readonly #limits: SubscriptionLimits;
  readonly #onExpired: (id: string, value: T) => void;

  constructor(limits: SubscriptionLimits, onExpired: (id: string, value: T) => void) {
    this.#limits = limits;
    this.#onExpired = onExpired;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(id: string): T | undefined {
    return this.#entries.get(id)?.value;
  }

  /** A new subscription that expires in `seconds`, or why not. */
  add(id: string, deviceId: string, value: T, seconds: number): SubscriptionRefusal | null {
    if (this.#entries.has(id)) throw new Error(`subscription ${id} exists`);
    if ((this.#perDevice.get(deviceId) ?? 0) >= this.#limits.perDevice) return 'device_full';
    if (this.#entries.size >= this.#limits.total) return 'table_full';
    this.#entries.set(id, { value, deviceId, timer: this.#timer(id, seconds) });
    this.#perDevice.set(deviceId, (this.#perDevice.get(deviceId) ?? 0) + 1);
    return null;
  }

  /** A refresh (§4.1.2.1): the subscription now expires in `seconds`. False when there is none. */
  refresh(id: string, seconds: number): boolean {
    const entry = this.#entries.get(id);
    if (!entry) return false;
    clearTimeout(entry.timer);
    entry.timer = this.#timer(id, seconds);
    return true;
  }

  /** Removes the subscription (unsubscribed, or its NOTIFY failed); its timer with it. */
  remove(id: string): T | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.#entries.delete(id);
    const left = (this.#perDevice.get(entry.deviceId) ?? 1) - 1;
    if (left > 0) this.#perDevice.set(entry.deviceId, left);
    else this.#perDevice.delete(entry.deviceId);
    return entry.value;
  }

  /** Removes every subscription, telling nobody (the node stops). */
  clear(): void {
    for (const id of [...this.#entries.keys()]) this.remove(id);
  }

  #timer(id: string, seconds: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const value = this.remove(id);
      if (value !== undefined) this.#onExpired(id, value);
    }, seconds * 1000);
    timer.unref();
    return timer;
  }
}
