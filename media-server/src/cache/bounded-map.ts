/**
 * A Map with a ceiling on its size, for every table a remote peer can grow
 * (throttles, caches, nonce counts): when full, setting a new key drops the
 * oldest entry (insertion order), so a flood of new keys costs a fixed amount
 * of memory and evicts its own entries first. Re-setting a key moves it to
 * the young end.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  readonly maxSize: number;

  constructor(maxSize: number) {
    super();
    if (!(maxSize >= 1)) throw new RangeError('maxSize must be at least 1');
    this.maxSize = maxSize;
  }

  override set(key: K, value: V): this {
    if (super.has(key)) super.delete(key);
    else if (this.size >= this.maxSize) {
      const oldest = this.keys().next();
      if (!oldest.done) super.delete(oldest.value);
    }
    return super.set(key, value);
  }
}
