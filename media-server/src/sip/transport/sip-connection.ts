import type { SipSource } from './sip-source.ts';

/** How a connection reports upward to the `SipTransportLayer` that owns it. */
export interface SipConnectionUser {
  onFrame(connection: SipConnection, frame: Buffer): void;
  onKeepAlive(connection: SipConnection): void;
  onFramingError(connection: SipConnection, reason: string): void;
  onClose(connection: SipConnection): void;
}

/**
 * One TCP, TLS, WS or WSS connection, inbound or outbound. It closes itself
 * after `idleTimeoutMs` without traffic so a silent peer cannot hold it forever.
 * @internal Created by `SipTransportLayer` only.
 */
export abstract class SipConnection {
  readonly id: string;
  readonly source: SipSource;
  /** `transport|host|port` names under which outbound sends find this connection. */
  readonly aliases = new Set<string>();
  protected readonly user: SipConnectionUser;
  #idle: ReturnType<typeof setTimeout> | null;
  /** The idle timer fired and no traffic has come since. */
  #idleDue = false;
  #closed = false;

  constructor(id: string, source: SipSource, idleTimeoutMs: number, user: SipConnectionUser) {
    this.id = id;
    this.source = { ...source, connectionId: id };
    this.user = user;
    this.#idle = setTimeout(this.#onIdle, idleTimeoutMs);
  }

  /**
   * The countdown ran out. Traffic that arrived while the event loop was busy (a pong, a CRLF) has not been
   * read yet: timers run before the loop polls sockets. The decision waits for that poll (setImmediate runs
   * after it), so a stall of the process never drops a live peer; `touch()` re-arms the timer if it spoke.
   */
  #onIdle = (): void => {
    this.#idleDue = true;
    setImmediate(() => {
      if (this.#idleDue) this.close();
    });
  };

  /** Restarts the idle countdown with a new length, kept for later traffic too. */
  setIdleTimeout(ms: number): void {
    if (this.#closed) return;
    this.#clearIdle();
    this.#idleDue = false;
    this.#idle = setTimeout(this.#onIdle, ms);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Writes one serialised message (or a keep-alive); rejects if the connection cannot take it. */
  abstract write(data: Buffer): Promise<void>;

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearIdle();
    this.destroy();
    this.user.onClose(this);
  }

  protected abstract destroy(): void;

  protected touch(): void {
    this.#idleDue = false;
    // Re-arms the countdown, also when it has just fired (Node's refresh() reactivates a fired timer).
    this.#idle?.refresh();
  }

  /** The peer went away: same bookkeeping as `close()`. */
  protected closedByPeer(): void {
    this.close();
  }

  #clearIdle(): void {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = null;
  }
}
