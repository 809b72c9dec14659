/**
 * The media plane's UDP sockets over the N-API addon of media-server/native
 * (issue 12): the addon receives with recvmmsg into a ring shared by all the
 * sockets of this thread and hands over one batch per readable event; sends
 * are copied at once into a send ring and leave as one sendmmsg per socket
 * when the current task ends (a microtask), or when the ring is full. The
 * profile in BENCHMARKS.md put one recvmsg and one sendmsg per packet at
 * ~35 % of a relayed packet and per-datagram Buffers at ~19 %.
 *
 * Same surface as the dgram socket it replaces (see PacketSocket), with two
 * differences the endpoint and the SFU are written for: a received Buffer is
 * a view of the ring and valid only while its 'message' handler runs (DTLS
 * copies what it keeps), and send() copies, so getSendQueueCount() is 0 and a
 * send buffer may be reused at once.
 */
import type { RemoteInfo } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIPv6 } from 'node:net';
import type { MediaIoAddon } from '../native-addon.ts';

/** Datagrams per receive batch and per send flush. */
const SLOTS = 64;
/** Larger than any RTP/RTCP/DTLS datagram on a 1500-byte path; a bigger send goes out on its own (sendNow). */
const SLOT_SIZE = 2048;
const META = 8;
/** Kernel receive buffer asked for: bursts of a few hundred packets survive a busy event loop. */
const RECEIVE_BUFFER_BYTES = 1 << 20;

/** The rings and the pending sends of this thread: one per thread, shared by its sockets. */
class IoContext {
  readonly recvBuf = Buffer.allocUnsafeSlow(SLOTS * SLOT_SIZE);
  readonly recvMeta = new Int32Array(SLOTS * META);
  readonly sendBuf = Buffer.allocUnsafeSlow(SLOTS * SLOT_SIZE);
  readonly sendMeta = new Int32Array(SLOTS * META);
  readonly handle: object;
  readonly sockets = new Map<number, NativeUdpSocket>();
  pending = 0;
  private scheduled = false;

  readonly io: MediaIoAddon;

  constructor(io: MediaIoAddon) {
    this.io = io;
    this.handle = io.createContext(this.recvBuf, this.recvMeta, this.sendBuf, this.sendMeta, SLOTS, SLOT_SIZE);
  }

  enqueue(id: number, buf: Buffer, offset: number, length: number, port: number, family: number, words: Int32Array): void {
    if (this.pending === SLOTS) this.flush();
    const slot = this.pending++;
    buf.copy(this.sendBuf, slot * SLOT_SIZE, offset, offset + length);
    const m = slot * META;
    const meta = this.sendMeta;
    meta[m] = length;
    meta[m + 1] = port;
    meta[m + 2] = family;
    meta[m + 3] = id;
    meta[m + 4] = words[0]!;
    meta[m + 5] = words[1]!;
    meta[m + 6] = words[2]!;
    meta[m + 7] = words[3]!;
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flush);
    }
  }

  /** Sends what is pending: after the receive batch or timer task that queued it, or when the ring is full. */
  readonly flush = (): void => {
    this.scheduled = false;
    const n = this.pending;
    if (n === 0) return;
    this.pending = 0;
    if (this.io.flush(this.handle, n) === 0) return;
    for (let i = 0; i < n; i++) {
      const errno = -this.sendMeta[i * META]!;
      if (errno > 0) this.sockets.get(this.sendMeta[i * META + 3]!)?.sendFailed(errno);
    }
  };
}

let context: IoContext | null = null;

function ioContext(io: MediaIoAddon): IoContext {
  return (context ??= new IoContext(io));
}

/** Formats an address the way dgram reports it (RFC 5952 for IPv6). */
function addressString(meta: Int32Array, m: number): string {
  if (meta[m + 2] === 4) {
    const a = meta[m + 4]! >>> 0;
    return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
  }
  const bytes = Buffer.from(meta.buffer, meta.byteOffset + (m + 4) * 4, 16);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1);
}

export class NativeUdpSocket extends EventEmitter {
  readonly #ctx: IoContext;
  readonly #io: MediaIoAddon;
  readonly #handle: object;
  readonly #id: number;
  readonly #address: string;
  readonly #family: 'IPv4' | 'IPv6';
  readonly #port: number;
  #closed = false;
  /** The last destination parsed, and its words for the send ring: a leg sends to one address. */
  #sendAddress: string | null = null;
  #sendFamily = 0;
  readonly #sendWords = new Int32Array(4);
  /** The last source seen and its RemoteInfo (IPv4: address word and port), then a small map. */
  #lastSourceKey = -1;
  #lastSource: RemoteInfo | null = null;
  readonly #sources = new Map<number, RemoteInfo>();

  static open(io: MediaIoAddon, address: string, port: number): NativeUdpSocket {
    return new NativeUdpSocket(io, address, port);
  }

  private constructor(io: MediaIoAddon, address: string, port: number) {
    super();
    this.#io = io;
    this.#ctx = ioContext(io);
    const family = isIPv6(address) ? 6 : 4;
    const [handle, id, bound] = io.open(this.#ctx.handle, family, address, port, RECEIVE_BUFFER_BYTES, this.#onBatch);
    this.#handle = handle;
    this.#id = id;
    this.#address = address;
    this.#family = family === 6 ? 'IPv6' : 'IPv4';
    this.#port = bound;
    this.#ctx.sockets.set(id, this);
  }

  /** The addon's receive batch: `count` datagrams in the thread's ring, handed to 'message' one by one. */
  readonly #onBatch = (count: number): void => {
    const meta = this.#ctx.recvMeta;
    const ring = this.#ctx.recvBuf;
    // The 'message' listeners once per batch (an endpoint has one), called directly: emit() per packet costs more.
    const listeners = this.listeners('message') as ((msg: Buffer, rinfo: RemoteInfo) => void)[];
    for (let i = 0; i < count && !this.#closed; i++) {
      const m = i * META;
      const length = meta[m]!;
      if (meta[m + 3] !== 0) continue; // truncated: larger than a slot, no media packet is
      const rinfo = this.#source(meta, m);
      rinfo.size = length;
      const start = i * SLOT_SIZE;
      const msg = ring.subarray(start, start + length);
      if (listeners.length === 1) listeners[0]!(msg, rinfo);
      else for (const listener of listeners) if (!this.#closed) listener(msg, rinfo);
    }
  };

  #source(meta: Int32Array, m: number): RemoteInfo {
    if (meta[m + 2] === 4) {
      const key = (meta[m + 4]! >>> 0) * 65536 + meta[m + 1]!;
      if (key === this.#lastSourceKey) return this.#lastSource!;
      let rinfo = this.#sources.get(key);
      if (!rinfo) {
        // Bounded: a flood of spoofed sources must not grow it without end.
        if (this.#sources.size >= 256) this.#sources.clear();
        rinfo = { address: addressString(meta, m), family: 'IPv4', port: meta[m + 1]!, size: 0 };
        this.#sources.set(key, rinfo);
      }
      this.#lastSourceKey = key;
      this.#lastSource = rinfo;
      return rinfo;
    }
    return { address: addressString(meta, m), family: 'IPv6', port: meta[m + 1]!, size: 0 };
  }

  send(msg: Buffer, port: number, address: string): void;
  send(msg: Buffer, offset: number, length: number, port: number, address: string): void;
  send(msg: Buffer, a: number, b: number | string, c?: number, d?: string): void {
    let offset = 0;
    let length = msg.length;
    let port: number;
    let address: string;
    if (c === undefined) {
      port = a;
      address = b as string;
    } else {
      offset = a;
      length = b as number;
      port = c;
      address = d!;
    }
    if (this.#closed) return;
    if (address !== this.#sendAddress) {
      const family = this.#io.pton(address, this.#sendWords);
      if (family === 0) {
        this.#sendAddress = null;
        this.emit('error', new Error(`not an IP address: ${JSON.stringify(address)}`));
        return;
      }
      this.#sendFamily = family;
      this.#sendAddress = address;
    }
    if (length > SLOT_SIZE) {
      const errno = this.#io.sendNow(this.#handle, msg, offset, length, this.#sendFamily, port, this.#sendWords);
      if (errno !== 0) this.sendFailed(errno);
      return;
    }
    this.#ctx.enqueue(this.#id, msg, offset, length, port, this.#sendFamily, this.#sendWords);
  }

  /** @internal A send the kernel refused (an ICMP error pending on the socket, a full send buffer). */
  sendFailed(errno: number): void {
    const err = Object.assign(new Error(`send failed: errno ${errno}`), { errno, code: errno === 111 ? 'ECONNREFUSED' : 'ESEND' });
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /** Sends are copied into the ring at once: nothing is ever queued on the caller's buffer. */
  getSendQueueCount(): number {
    return 0;
  }

  address(): { address: string; family: string; port: number } {
    return { address: this.#address, family: this.#family, port: this.#port };
  }

  /** Sends what is queued, stops the poll handle and closes the descriptor; the rings stay the thread's. */
  close(): void {
    if (this.#closed) return;
    this.#ctx.flush();
    this.#closed = true;
    this.#ctx.sockets.delete(this.#id);
    this.#io.close(this.#handle);
    this.emit('close');
  }
}
