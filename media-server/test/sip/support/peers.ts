import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { parseSipMessage, serializeSipMessage, type SipMessage } from '../../../src/sip/message/index.ts';
import { StreamFramer } from '../../../src/sip/transport/index.ts';
import { Inbox } from './inbox.ts';

type Payload = string | Buffer | SipMessage;
const bytes = (p: Payload): Buffer =>
  typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.isBuffer(p) ? p : serializeSipMessage(p);

/** A plain UDP socket playing the far end: sends raw bytes, collects parsed replies. */
export class UdpPeer {
  readonly inbox = new Inbox();
  /** Datagrams the parser refused, kept so a test can see that something unexpected arrived. */
  readonly unparsed: Buffer[] = [];
  readonly #socket: dgram.Socket;

  private constructor(socket: dgram.Socket) {
    this.#socket = socket;
    socket.on('message', (data) => {
      const parsed = parseSipMessage(data);
      if (parsed.ok) this.inbox.push(parsed.message);
      else this.unparsed.push(data);
    });
  }

  static async open(): Promise<UdpPeer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new UdpPeer(socket);
  }

  get port(): number {
    return this.#socket.address().port;
  }

  send(payload: Payload, port: number, host = '127.0.0.1'): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#socket.send(bytes(payload), port, host, (err) => (err ? reject(err) : resolve())),
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}

/** A TCP or TLS client connection, framing what it receives like any SIP peer must. */
export class StreamPeer {
  readonly inbox = new Inbox();
  /** Bare CRLFs received on their own: RFC 5626 pongs. */
  pongs = 0;
  readonly closed: Promise<void>;
  readonly #socket: net.Socket;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    const framer = new StreamFramer(1 << 20);
    socket.on('data', (chunk: Buffer) => {
      // A pong is a lone CRLF, which a framer can only tell from half a ping once more bytes come.
      if (/^(\r\n)+$/.test(chunk.toString('latin1'))) {
        this.pongs += chunk.length / 2;
        return;
      }
      for (const event of framer.push(chunk)) {
        if (event.kind === 'message') {
          const parsed = parseSipMessage(event.frame);
          if (parsed.ok) this.inbox.push(parsed.message);
        }
      }
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static connect(port: number, options: { tls?: { ca: Buffer } } = {}): Promise<StreamPeer> {
    return new Promise((resolve, reject) => {
      const socket = options.tls
        ? tls.connect({ host: '127.0.0.1', port, ca: options.tls.ca }, () => resolve(new StreamPeer(socket)))
        : net.connect({ host: '127.0.0.1', port }, () => resolve(new StreamPeer(socket)));
      socket.once('error', reject);
    });
  }

  get localPort(): number {
    return this.#socket.localPort ?? 0;
  }

  get isClosed(): boolean {
    return this.#socket.destroyed || this.#socket.readyState === 'closed';
  }

  write(payload: Payload): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#socket.write(bytes(payload), (err) => (err ? reject(err) : resolve())),
    );
  }

  close(): void {
    this.#socket.destroy();
  }
}
