import type net from 'node:net';
import { SipConnection, type SipConnectionUser } from './sip-connection.ts';
import type { SipSource } from './sip-source.ts';
import { StreamFramer } from './stream-framer.ts';
import { TransportError } from './transport-error.ts';

const PONG = Buffer.from('\r\n');
// A peer that stops reading while we keep writing would grow this buffer without bound.
const MAX_UNSENT_BYTES = 1 << 20;

/** A TCP or TLS connection: bytes are cut into messages by a `StreamFramer`. */
export class StreamConnection extends SipConnection {
  readonly #socket: net.Socket;
  readonly #framer: StreamFramer;

  constructor(
    id: string,
    source: SipSource,
    socket: net.Socket,
    settings: { idleTimeoutMs: number; maxMessageBytes: number },
    user: SipConnectionUser,
  ) {
    super(id, source, settings.idleTimeoutMs, user);
    this.#socket = socket;
    this.#framer = new StreamFramer(settings.maxMessageBytes);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    // Resets and aborted handshakes are the peer's business; 'close' follows and cleans up.
    socket.on('error', () => {});
    socket.on('close', () => this.closedByPeer());
  }

  write(data: Buffer): Promise<void> {
    if (this.closed || this.#socket.destroyed)
      return Promise.reject(new TransportError(`connection ${this.id} is closed`));
    if (this.#socket.writableLength > MAX_UNSENT_BYTES) {
      this.close();
      return Promise.reject(new TransportError(`connection ${this.id} is not draining`));
    }
    this.touch();
    return new Promise((resolve, reject) => {
      this.#socket.write(data, (err) =>
        err ? reject(new TransportError(err.message, { cause: err })) : resolve(),
      );
    });
  }

  protected destroy(): void {
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.touch();
    for (const event of this.#framer.push(chunk)) {
      if (this.closed) return;
      switch (event.kind) {
        case 'message':
          this.user.onFrame(this, event.frame);
          break;
        case 'ping':
          this.user.onKeepAlive(this);
          this.write(PONG).catch(() => {});
          break;
        case 'keepalive':
          this.user.onKeepAlive(this);
          break;
        case 'error':
          this.user.onFramingError(this, event.reason);
          this.close();
          break;
      }
    }
  }
}
