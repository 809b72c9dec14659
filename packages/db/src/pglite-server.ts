import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

/**
 * PGlite lives in one process. The app, media-server and workers are separate
 * processes, so the process that owns PGlite serves it over the PostgreSQL wire
 * protocol on loopback and the others connect with an ordinary DATABASE_URL.
 *
 * PGlite is a single backend session. @electric-sql/pglite-socket queues single
 * messages, so one client's Bind could meet another client's Parse, and a
 * statement of one client could run inside another client's transaction. Here a
 * connection owns the session from its first message until a ReadyForQuery with
 * status idle ('I'): a whole Parse…Sync or Query exchange, and a whole
 * transaction. Other connections' messages wait in their own queue, in order.
 *
 * Any local user can connect to a loopback port, so a connection must first
 * prove it knows the server's password (MD5 challenge with a salt per
 * connection, PostgreSQL protocol §53.2.2: the password itself never crosses
 * the socket) before its startup message reaches PGlite.
 */

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
const READY_FOR_QUERY = 0x5a; // 'Z'
const TERMINATE = 0x58; // 'X'
const STATUS_IDLE = 0x49; // 'I'
const PASSWORD_MESSAGE = 0x70; // 'p'
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);
const ROLLBACK = queryMessage('ROLLBACK');

function queryMessage(text: string): Uint8Array {
  const body = Buffer.from(`${text}\0`, 'utf8');
  const msg = Buffer.alloc(5 + body.length);
  msg[0] = 0x51; // 'Q'
  msg.writeInt32BE(4 + body.length, 1);
  body.copy(msg, 5);
  return msg;
}

class Connection {
  /** Complete messages not yet run, oldest first; `head` avoids shifting the array. */
  readonly pending: Uint8Array[] = [];
  head = 0;
  private partial: Buffer | null = null;
  private startupDone = false;
  /** The startup message, held back until the password is proven. */
  private startup: Uint8Array | null = null;
  private salt: Buffer | null = null;
  closed = false;

  readonly socket: net.Socket;
  private readonly password: string;

  constructor(socket: net.Socket, password: string) {
    this.socket = socket;
    this.password = password;
  }

  get hasPending(): boolean {
    return this.head < this.pending.length;
  }

  next(): Uint8Array | undefined {
    if (!this.hasPending) return undefined;
    const msg = this.pending[this.head]!;
    this.pending[this.head++] = undefined as unknown as Uint8Array;
    if (this.head === this.pending.length) {
      this.pending.length = 0;
      this.head = 0;
    }
    return msg;
  }

  /** Splits the byte stream into whole messages; answers the pre-startup requests itself. */
  receive(chunk: Buffer): void {
    if (this.closed) return;
    const buf = this.partial ? Buffer.concat([this.partial, chunk]) : chunk;
    let at = 0;
    for (;;) {
      if (!this.startupDone) {
        if (buf.length - at < 8) break;
        const len = buf.readInt32BE(at);
        if (buf.length - at < len) break;
        const code = buf.readInt32BE(at + 4);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          this.socket.write('N');
        } else if (code === CANCEL_REQUEST) {
          // PGlite has no backend to signal: the request is consumed and the connection ends.
          this.socket.end();
        } else if (code === PROTOCOL_3) {
          this.startupDone = true;
          this.startup = Buffer.from(buf.subarray(at, at + len));
          this.salt = randomBytes(4);
          this.socket.write(authenticationMd5(this.salt));
        } else {
          this.refuse('08P01', 'unsupported frontend protocol');
          return;
        }
        at += len;
        continue;
      }
      if (buf.length - at < 5) break;
      const len = 1 + buf.readInt32BE(at + 1);
      if (this.startup && len > 1024) {
        this.refuse('08P01', 'password message too long');
        return;
      }
      if (buf.length - at < len) break;
      if (this.startup) {
        // Nothing but the password answer may come before the session is granted.
        if (buf[at] !== PASSWORD_MESSAGE || !this.passwordMatches(buf.subarray(at + 5, at + len - 1))) {
          this.refuse('28P01', 'password authentication failed');
          return;
        }
        this.pending.push(this.startup);
        this.startup = null;
        at += len;
        continue;
      }
      this.pending.push(buf.subarray(at, at + len));
      at += len;
    }
    if (at === buf.length) this.partial = null;
    else this.partial = Buffer.from(buf.subarray(at)); // copy so the big chunk can be freed
  }

  /** The MD5 answer is "md5" + md5(md5(password + user) + salt), in hex (PostgreSQL protocol §53.2.2). */
  private passwordMatches(answer: Uint8Array): boolean {
    const user = startupParameter(this.startup!, 'user') ?? '';
    const inner = createHash('md5').update(this.password + user).digest('hex');
    const expected = Buffer.from('md5' + createHash('md5').update(inner).update(this.salt!).digest('hex'));
    return answer.length === expected.length && timingSafeEqual(answer, expected);
  }

  private refuse(code: string, message: string): void {
    this.closed = true;
    this.pending.length = 0;
    this.head = 0;
    this.socket.end(errorResponse(code, message));
  }
}

function authenticationMd5(salt: Buffer): Buffer {
  const msg = Buffer.alloc(13);
  msg[0] = 0x52; // 'R'
  msg.writeInt32BE(12, 1);
  msg.writeInt32BE(5, 5); // AuthenticationMD5Password
  salt.copy(msg, 9);
  return msg;
}

function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`, 'utf8');
  const msg = Buffer.alloc(5 + fields.length);
  msg[0] = 0x45; // 'E'
  msg.writeInt32BE(4 + fields.length, 1);
  fields.copy(msg, 5);
  return msg;
}

/** A parameter of a StartupMessage: length, protocol, then name\0value\0 pairs. */
function startupParameter(startup: Uint8Array, name: string): string | undefined {
  const parts = Buffer.from(startup.subarray(8)).toString('utf8').split('\0');
  for (let i = 0; i + 1 < parts.length; i += 2) if (parts[i] === name) return parts[i + 1];
  return undefined;
}

class SessionArbiter {
  private owner: Connection | null = null;
  /** Connections waiting for the session, in arrival order (a Set keeps insertion order). */
  private readonly waiting = new Set<Connection>();
  private running = false;
  /** Last bytes written by PGlite for the running message, to spot a trailing ReadyForQuery. */
  private readonly tail = new Uint8Array(6);
  private tailLength = 0;

  private readonly pglite: PGlite;

  constructor(pglite: PGlite) {
    this.pglite = pglite;
  }

  wake(conn: Connection): void {
    if (conn !== this.owner && conn.hasPending) this.waiting.add(conn);
    void this.drain();
  }

  drop(conn: Connection): void {
    conn.closed = true;
    this.waiting.delete(conn);
    void this.drain();
  }

  private draining: Promise<void> = Promise.resolve();

  /** Resolves once no message is being run, so the caller may close PGlite. */
  settled(): Promise<void> {
    return this.draining;
  }

  private drain(): Promise<void> {
    if (this.running) return this.draining;
    this.draining = this.loop();
    return this.draining;
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      for (;;) {
        if (this.owner?.closed) await this.abandon(this.owner);
        if (!this.owner) {
          const first = this.waiting.values().next();
          if (first.done) return;
          this.owner = first.value;
          this.waiting.delete(first.value);
        }
        const owner = this.owner;
        const msg = owner.next();
        // The owner is mid-exchange or mid-transaction: the session stays its own until it sends more.
        if (!msg) return;
        if (msg[0] === TERMINATE) {
          owner.closed = true;
          owner.socket.end();
          continue;
        }
        const status = await this.run(msg, owner.socket);
        if (status === STATUS_IDLE) {
          this.owner = null;
          // Round robin: the connection goes to the back of the line if it has more to say.
          if (owner.hasPending && !owner.closed) this.waiting.add(owner);
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** Runs one message; returns the ReadyForQuery status if the answer ended with one. */
  private async run(msg: Uint8Array, socket: net.Socket | null): Promise<number | null> {
    this.tailLength = 0;
    try {
      await this.pglite.runExclusive(() =>
        this.pglite.execProtocolRawStream(msg, {
          onRawData: (data: Uint8Array) => {
            this.remember(data);
            if (socket && !socket.destroyed) socket.write(data);
          },
        }),
      );
    } catch (err) {
      socket?.destroy(err as Error);
      return null;
    }
    const t = this.tail;
    if (this.tailLength === 6 && t[0] === READY_FOR_QUERY && t[1] === 0 && t[2] === 0 && t[3] === 0 && t[4] === 5) {
      return t[5]!;
    }
    return null;
  }

  private remember(data: Uint8Array): void {
    const n = data.length;
    if (n >= 6) {
      this.tail.set(data.subarray(n - 6));
      this.tailLength = 6;
      return;
    }
    const keep = Math.min(this.tailLength, 6 - n);
    this.tail.copyWithin(0, this.tailLength - keep, this.tailLength);
    this.tail.set(data, keep);
    this.tailLength = keep + n;
  }

  /** The owner left mid-exchange or mid-transaction: end both so the session is clean for the next one. */
  private async abandon(conn: Connection): Promise<void> {
    this.owner = null;
    conn.pending.length = 0;
    conn.head = 0;
    try {
      let status = await this.run(SYNC, null);
      if (status !== STATUS_IDLE) status = await this.run(ROLLBACK, null);
      if (status !== STATUS_IDLE && this.pglite.isInTransaction()) await this.pglite.exec('ROLLBACK');
    } catch {
      // PGlite is closing or broken: there is no session left to clean.
    }
  }
}

/**
 * Serves PGlite on a loopback port. Connections must give `password` (a random
 * one when none is given: the returned URL carries it either way).
 */
export async function servePglite(
  pglite: PGlite,
  options: { password?: string; port?: number } = {},
): Promise<{ url: string; stop: () => Promise<void> }> {
  const password = options.password ?? randomBytes(24).toString('base64url');
  await pglite.waitReady;
  const arbiter = new SessionArbiter(pglite);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    const conn = new Connection(socket, password);
    socket.on('data', (chunk: Buffer) => {
      conn.receive(chunk);
      arbiter.wake(conn);
    });
    socket.on('error', () => undefined); // a client vanishing is handled by 'close'
    socket.on('close', () => {
      sockets.delete(socket);
      arbiter.drop(conn);
    });
  });
  server.maxConnections = 64;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${address.port}/postgres?sslmode=disable`,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => void arbiter.settled().then(resolve));
      }),
  };
}
