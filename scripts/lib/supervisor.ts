import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@carillon/config';

export interface RestartBackoff {
  /** First wait before restarting a service that died; doubled at each death in a row. */
  minMs: number;
  maxMs: number;
  /** A service that stayed up this long is healthy again: its next death restarts it after the first delay. */
  stableAfterMs: number;
}
export const RESTART_BACKOFF: RestartBackoff = { minMs: 500, maxMs: 30_000, stableAfterMs: 60_000 };
/** How long a service may take to stop on SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 15_000;

export interface ServiceSpec {
  name: string;
  args: string[];
}

interface Service {
  spec: ServiceSpec;
  child: ChildProcess | null;
  startedAt: number;
  /** Deaths in a row, each without a stable run in between. */
  failures: number;
  restartTimer: NodeJS.Timeout | null;
}

/**
 * Keeps the product's services running: each is a child process in its own
 * process group, restarted with exponential backoff when it dies, until
 * stop() (an explicit SIGINT/SIGTERM of the product). When a service dies, its
 * whole process group is killed before the restart, so nothing it spawned
 * (ghostscript for a fax, sox for a prompt) outlives it.
 */
export class Supervisor {
  private readonly services = new Map<string, Service>();
  private stopping = false;
  private readonly options: {
    command: string;
    cwd: string;
    env: NodeJS.ProcessEnv;
    log: Logger;
    /** Each service's output line, for the supervisor's own output. */
    output: (name: string, line: string, stream: 'stdout' | 'stderr') => void;
    /** Called whenever a service (re)starts or dies, with the running services' pids. */
    onChange: (pids: Record<string, number>) => void;
    backoff?: RestartBackoff;
  };

  constructor(options: Supervisor['options']) {
    this.options = options;
  }

  start(specs: ServiceSpec[]): void {
    for (const spec of specs) {
      const service: Service = { spec, child: null, startedAt: 0, failures: 0, restartTimer: null };
      this.services.set(spec.name, service);
      this.launch(service);
    }
  }

  /** The pids of the running services, by name. */
  pids(): Record<string, number> {
    const pids: Record<string, number> = {};
    for (const [name, s] of this.services) if (s.child?.pid) pids[name] = s.child.pid;
    return pids;
  }

  private launch(service: Service): void {
    const { command, cwd, env } = this.options;
    // Own process group: a Ctrl-C reaches only the supervisor, which then stops each service once;
    // and the group is what is killed when the service dies, with whatever it spawned.
    const child = spawn(command, service.spec.args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    service.child = child;
    service.startedAt = Date.now();
    this.lines(service.spec.name, child.stdout!, 'stdout');
    this.lines(service.spec.name, child.stderr!, 'stderr');
    child.on('error', (err) => this.options.log.error('service could not start', { service: service.spec.name, error: err }));
    child.on('exit', (code, signal) => this.exited(service, child, code, signal));
    this.options.log.info('service started', { service: service.spec.name, pid: child.pid });
    this.options.onChange(this.pids());
  }

  private exited(service: Service, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (service.child === child) service.child = null;
    killGroup(child.pid);
    this.options.onChange(this.pids());
    if (this.stopping) return;
    const backoff = this.options.backoff ?? RESTART_BACKOFF;
    if (Date.now() - service.startedAt >= backoff.stableAfterMs) service.failures = 0;
    const delayMs = Math.min(backoff.maxMs, backoff.minMs * 2 ** service.failures);
    service.failures++;
    this.options.log.error('service stopped unexpectedly; restarting it', { service: service.spec.name, pid: child.pid, code, signal, delayMs });
    service.restartTimer = setTimeout(() => {
      service.restartTimer = null;
      if (!this.stopping) this.launch(service);
    }, delayMs);
  }

  /** Stops every service (SIGTERM, then SIGKILL after a grace period); no restart after this. */
  async stop(): Promise<void> {
    this.stopping = true;
    const running: ChildProcess[] = [];
    for (const s of this.services.values()) {
      if (s.restartTimer) clearTimeout(s.restartTimer);
      if (s.child) running.push(s.child);
    }
    const exits = running.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r))));
    for (const c of running) c.kill('SIGTERM');
    await Promise.race([Promise.all(exits), sleep(STOP_TIMEOUT_MS)]);
    for (const c of running) killGroup(c.pid);
  }

  private lines(name: string, stream: NodeJS.ReadableStream, kind: 'stdout' | 'stderr'): void {
    let buf = '';
    stream.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        this.options.output(name, buf.slice(0, i), kind);
        buf = buf.slice(i + 1);
      }
    });
  }
}

/** SIGKILL to a process group (its leader may be gone already; so may the whole group). */
function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: nothing left in the group.
  }
}
