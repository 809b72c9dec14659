/**
 * Sipwise rtpengine for bench/relay-vs-rtpengine.ts: started in the
 * foreground by the benchmark (never its system service), userspace
 * forwarding only (`--table=-1`: no kernel module), no configuration file,
 * no Redis; driven by its "ng" control protocol: UDP datagrams of
 * `<cookie> <bencoded dictionary>`, one reply each with the same cookie.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';

export type Bencodable = string | number | Bencodable[] | { [key: string]: Bencodable };

/** Bencode (BEP 3): i<int>e, <len>:<bytes>, l…e, d…e with keys sorted. */
export function bencode(value: Bencodable): Buffer {
  if (typeof value === 'number') return Buffer.from(`i${Math.trunc(value)}e`);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value);
    return Buffer.concat([Buffer.from(`${bytes.length}:`), bytes]);
  }
  if (Array.isArray(value)) return Buffer.concat([Buffer.from('l'), ...value.map(bencode), Buffer.from('e')]);
  const keys = Object.keys(value).sort();
  return Buffer.concat([Buffer.from('d'), ...keys.flatMap((k) => [bencode(k), bencode(value[k]!)]), Buffer.from('e')]);
}

export function bdecode(buf: Buffer): Bencodable {
  let at = 0;
  const next = (): Bencodable => {
    const c = String.fromCharCode(buf[at]!);
    if (c === 'i') {
      const end = buf.indexOf(0x65, at);
      const n = Number(buf.subarray(at + 1, end).toString());
      at = end + 1;
      return n;
    }
    if (c === 'l') {
      at++;
      const list: Bencodable[] = [];
      while (buf[at] !== 0x65) list.push(next());
      at++;
      return list;
    }
    if (c === 'd') {
      at++;
      const dict: Record<string, Bencodable> = {};
      while (buf[at] !== 0x65) {
        const key = next() as string;
        dict[key] = next();
      }
      at++;
      return dict;
    }
    const colon = buf.indexOf(0x3a, at);
    if (colon < 0 || !/^\d+$/.test(buf.subarray(at, colon).toString())) throw new Error(`bencode: unexpected byte at ${at}`);
    const length = Number(buf.subarray(at, colon).toString());
    const s = buf.subarray(colon + 1, colon + 1 + length).toString();
    at = colon + 1 + length;
    return s;
  };
  return next();
}

export class RtpEngine {
  readonly process: ChildProcess;
  private readonly control: dgram.Socket;
  private readonly ngPort: number;

  private constructor(process: ChildProcess, control: dgram.Socket, ngPort: number) {
    this.process = process;
    this.control = control;
    this.ngPort = ngPort;
  }

  get pid(): number {
    return this.process.pid!;
  }

  /** Starts rtpengine with `threads` worker threads; resolves when its ng port answers a ping. */
  static async start(options: { threads: number; ngPort: number; portMin: number; portMax: number }): Promise<RtpEngine> {
    const child = spawn(
      'rtpengine',
      [
        '--config-file=none',
        '--foreground',
        '--log-stderr',
        `--log-level=${process.env.BENCH_RTPENGINE_LOG ? 6 : 4}`,
        '--table=-1',
        '--interface=127.0.0.1',
        `--listen-ng=127.0.0.1:${options.ngPort}`,
        `--port-min=${options.portMin}`,
        `--port-max=${options.portMax}`,
        `--num-threads=${options.threads}`,
        '--timeout=600',
        '--delete-delay=0',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    // Never leave a daemon behind, whatever happens to the benchmark.
    const killOnExit = () => child.kill('SIGKILL');
    process.on('exit', killOnExit);
    child.on('exit', () => process.off('exit', killOnExit));
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
      if (process.env.BENCH_RTPENGINE_LOG) process.stderr.write(d);
    });
    const control = dgram.createSocket('udp4');
    control.bind(0, '127.0.0.1');
    await once(control, 'listening');
    const engine = new RtpEngine(child, control, options.ngPort);
    for (let attempt = 0; ; attempt++) {
      if (child.exitCode !== null) throw new Error(`rtpengine exited (${child.exitCode}): ${stderr}`);
      try {
        const pong = await engine.request({ command: 'ping' }, 200);
        if (pong.result === 'pong') return engine;
      } catch (err) {
        if (attempt > 100) throw new Error(`rtpengine does not answer on its ng port: ${String(err)}\n${stderr}`);
      }
    }
  }

  /** One ng request; rejects on timeout or on `result: error`. */
  async request(message: Record<string, Bencodable>, timeoutMs = 5000): Promise<Record<string, Bencodable>> {
    const cookie = randomBytes(8).toString('hex');
    const reply = new Promise<Record<string, Bencodable>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.control.off('message', onMessage);
        reject(new Error(`rtpengine: no answer to ${String(message.command)} in ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (data: Buffer) => {
        const space = data.indexOf(0x20);
        if (data.subarray(0, space).toString() !== cookie) return;
        clearTimeout(timer);
        this.control.off('message', onMessage);
        const body = bdecode(data.subarray(space + 1)) as Record<string, Bencodable>;
        if (body.result === 'error') reject(new Error(`rtpengine ${String(message.command)}: ${String(body['error-reason'])}`));
        else resolve(body);
      };
      this.control.on('message', onMessage);
    });
    this.control.send(Buffer.concat([Buffer.from(`${cookie} `), bencode(message)]), this.ngPort, '127.0.0.1');
    return reply;
  }

  async stop(): Promise<void> {
    this.control.close();
    if (this.process.exitCode === null) {
      this.process.kill('SIGTERM');
      await once(this.process, 'exit');
    }
  }
}
