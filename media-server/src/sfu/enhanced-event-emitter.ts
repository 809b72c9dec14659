/**
 * An EventEmitter typed by an event map (`{ transportclose: []; '@close': [] }`),
 * as mediasoup's enhancedEvents.ts. `safeEmit` catches a throwing listener so
 * that it cannot break the packet path or a close() cascade half-way.
 * Events whose name starts with '@' are the plumbing between a parent and its
 * child, not part of the public API.
 */
import { EventEmitter } from 'node:events';

type Events = Record<string, unknown[]>;

export class EnhancedEventEmitter<E extends Events = Events> extends EventEmitter {
  constructor() {
    super();
    this.setMaxListeners(Infinity);
  }

  override emit<K extends keyof E & string>(eventName: K, ...args: E[K]): boolean {
    return super.emit(eventName, ...args);
  }

  /** Emits, and reports a listener's exception as an 'listenererror' event instead of throwing it. */
  safeEmit<K extends keyof E & string>(eventName: K, ...args: E[K]): boolean {
    try {
      return super.emit(eventName, ...args);
    } catch (err) {
      try {
        super.emit('listenererror', eventName, err);
      } catch {
        // A listener of the error report itself failed: nothing is left to tell.
      }
      return true;
    }
  }

  override on<K extends keyof E & string>(eventName: K, listener: (...args: E[K]) => void): this {
    return super.on(eventName, listener as (...args: unknown[]) => void);
  }

  override once<K extends keyof E & string>(eventName: K, listener: (...args: E[K]) => void): this {
    return super.once(eventName, listener as (...args: unknown[]) => void);
  }

  override off<K extends keyof E & string>(eventName: K, listener: (...args: E[K]) => void): this {
    return super.off(eventName, listener as (...args: unknown[]) => void);
  }
}
