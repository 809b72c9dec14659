import { isUtf8 } from 'node:buffer';
import type { RawData, WebSocket } from 'ws';
import { SipConnection, type SipConnectionUser } from './sip-connection.ts';
import type { SipSource } from './sip-source.ts';
import { TransportError } from './transport-error.ts';

const PING = '\r\n\r\n';
const PONG = Buffer.from('\r\n');
const MAX_UNSENT_BYTES = 1 << 20;

/**
 * A WS or WSS connection: each WebSocket message carries exactly one SIP
 * message (https://www.rfc-editor.org/rfc/rfc7118#section-5.1), so no framer is
 * needed. Browsers' SIP stacks also send "\r\n\r\n" frames as keep-alives and
 * expect "\r\n" back, the RFC 5626 exchange carried over WebSocket.
 */
export class WebSocketConnection extends SipConnection {
  readonly #ws: WebSocket;
  readonly #pinger: ReturnType<typeof setInterval>;

  constructor(
    id: string,
    source: SipSource,
    ws: WebSocket,
    settings: { idleTimeoutMs: number },
    user: SipConnectionUser,
  ) {
    super(id, source, settings.idleTimeoutMs, user);
    this.#ws = ws;
    ws.on('message', (data: RawData) => this.#onMessage(toBuffer(data)));
    ws.on('error', () => {});
    ws.on('close', () => this.closedByPeer());
    // Browsers re-register only every few minutes and rarely send CRLF keep-alives, but they answer
    // WebSocket pings by themselves: a pong proves the tab is alive, silence lets the idle timer act.
    ws.on('pong', () => this.touch());
    this.#pinger = setInterval(
      () => {
        if (ws.readyState === ws.OPEN) ws.ping();
      },
      Math.max(1, Math.floor(settings.idleTimeoutMs / 2)),
    );
  }

  write(data: Buffer): Promise<void> {
    if (this.closed || this.#ws.readyState !== this.#ws.OPEN)
      return Promise.reject(new TransportError(`connection ${this.id} is closed`));
    if (this.#ws.bufferedAmount > MAX_UNSENT_BYTES) {
      this.close();
      return Promise.reject(new TransportError(`connection ${this.id} is not draining`));
    }
    this.touch();
    // RFC 7118 §5.1 allows text or binary frames; text is what browser stacks expect, binary keeps a non-UTF-8 body intact.
    return new Promise((resolve, reject) => {
      this.#ws.send(data, { binary: !isUtf8(data) }, (err) =>
        err ? reject(new TransportError(err.message, { cause: err })) : resolve(),
      );
    });
  }

  protected destroy(): void {
    clearInterval(this.#pinger);
    this.#ws.terminate();
  }

  #onMessage(data: Buffer): void {
    this.touch();
    if (data.length <= 4 && /^(\r\n)+$/.test(data.toString('latin1'))) {
      this.user.onKeepAlive(this);
      if (data.toString('latin1') === PING) this.write(PONG).catch(() => {});
      return;
    }
    this.user.onFrame(this, data);
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
