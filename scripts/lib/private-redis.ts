import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface PrivateRedis {
  url: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.setTimeout(500);
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      resolve(d.toString().startsWith('+PONG'));
      sock.destroy();
    });
    sock.on('error', () => resolve(false));
    sock.on('timeout', () => {
      resolve(false);
      sock.destroy();
    });
  });
}

/**
 * BullMQ needs Redis; when REDIS_URL is unset we run a private redis-server
 * from PATH on a free loopback port. With a directory it persists there
 * (append-only file), so queued jobs survive a restart of the product.
 */
export async function startPrivateRedis(dir: string | null, log: (line: string) => void = () => {}): Promise<PrivateRedis> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'yes', '--save', ''];
  if (dir) {
    fs.mkdirSync(dir, { recursive: true });
    args.push('--dir', path.resolve(dir), '--appendonly', 'yes');
  } else {
    args.push('--appendonly', 'no');
  }
  let child: ChildProcess;
  try {
    // Own process group: a Ctrl-C must not stop Redis before the services that still use it.
    child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  } catch (err) {
    throw new Error(`cannot start redis-server (is it installed? apt-get install redis-server): ${String(err)}`);
  }
  let exited = false;
  child.on('exit', () => (exited = true));
  child.on('error', (err) => log(`redis-server: ${err.message}`));
  child.stdout?.on('data', (d: Buffer) => log(d.toString().trimEnd()));
  child.stderr?.on('data', (d: Buffer) => log(d.toString().trimEnd()));
  for (let i = 0; i < 100 && !exited; i++) {
    if (await answersPing(port)) {
      return {
        url: `redis://127.0.0.1:${port}`,
        stop: async () => {
          if (exited) return;
          const done = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM'); // redis flushes the append-only file on SIGTERM
          await Promise.race([done, sleep(5000)]);
          if (!exited) child.kill('SIGKILL');
        },
      };
    }
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not answer PING within 5 s');
}
