/**
 * Registrar threads: REGISTER is most of a SIP edge's traffic (every phone
 * refreshes, and a restart of an office brings them all at once), and one
 * event loop tops out at a few thousand registrations a second. Each thread
 * binds the SIP UDP port too, with SO_REUSEPORT: the kernel then gives each
 * peer address to one socket of the group, always the same one, so a phone's
 * REGISTER, its retransmissions and its authenticated retry all reach the same
 * thread. A thread answers REGISTERs itself and passes every other datagram
 * (calls, responses, in-dialog requests) to the main thread, which processes
 * it as its own socket's and answers from the same port. The database stays
 * on the main thread: threads ask it for device credentials and cache them.
 * Failed passwords are counted by the main thread for every thread, so the
 * per-address limit is the same however the kernel spreads the sockets.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { Logger } from '@carillon/config';
import type { SipDeviceCredential } from '@carillon/core';
import { throttleKeys, type AuthThrottle } from './auth-throttle.ts';
import type { RegistrarMainMessage, RegistrarThreadInit, RegistrarThreadMessage } from './registrar-thread-messages.ts';

export interface RegistrarThreadsDeps {
  init: Omit<RegistrarThreadInit, 'index'>;
  /** The main thread's own lookup (its database). */
  findCredential(username: string): Promise<SipDeviceCredential | null>;
  throttle: AuthThrottle;
  /** A datagram a thread's socket received that is not a REGISTER. */
  receiveDatagram(data: Buffer, from: { address: string; port: number }): void;
  log: Logger;
}

const RESTART_DELAY_MS = 1000;

export class RegistrarThreads {
  private readonly deps: RegistrarThreadsDeps;
  private readonly workers: (Worker | null)[];
  private stopping = false;
  private readonly answerWaiters = new Map<Worker, (registers: number) => void>();

  private constructor(deps: RegistrarThreadsDeps, count: number) {
    this.deps = deps;
    this.workers = new Array<Worker | null>(count).fill(null);
  }

  static async start(deps: RegistrarThreadsDeps, count: number): Promise<RegistrarThreads> {
    const threads = new RegistrarThreads(deps, count);
    await Promise.all(threads.workers.map((_, i) => threads.spawn(i)));
    deps.log.info('registrar threads started', { count, udpPort: deps.init.udpPort });
    return threads;
  }

  get count(): number {
    return this.workers.length;
  }

  /** Each thread's event-loop utilisation since it started (for benchmarks). */
  eventLoopUtilization(): EventLoopUtilization[] {
    return this.workers.map((w) => w?.performance.eventLoopUtilization() ?? performance.eventLoopUtilization());
  }

  private spawn(index: number): Promise<void> {
    const init: RegistrarThreadInit = { ...this.deps.init, index };
    const worker = new Worker(new URL('./registrar-thread.ts', import.meta.url), { workerData: init });
    this.workers[index] = worker;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      worker.on('message', (message: RegistrarThreadMessage) => {
        if (message.type === 'ready') {
          ready = true;
          resolve();
          return;
        }
        this.onMessage(worker, message);
      });
      worker.on('error', (err) => {
        this.deps.log.error('registrar thread failed', { index, error: err });
        if (!ready) reject(err);
      });
      worker.on('exit', (code) => {
        if (this.workers[index] === worker) this.workers[index] = null;
        if (this.stopping || !ready) return;
        // Its socket left the group with it, so the kernel already sends its phones to the others.
        this.deps.log.error('registrar thread exited; restarting it', { index, code });
        setTimeout(() => {
          if (!this.stopping) this.spawn(index).catch((err: unknown) => this.deps.log.error('registrar thread did not restart', { index, error: err }));
        }, RESTART_DELAY_MS).unref();
      });
    });
  }

  private onMessage(worker: Worker, message: RegistrarThreadMessage): void {
    switch (message.type) {
      case 'datagram':
        this.deps.receiveDatagram(Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength), message);
        return;
      case 'credential':
        this.deps.findCredential(message.username).then(
          (value) => send(worker, { type: 'credential', id: message.id, value }),
          (err: unknown) => send(worker, { type: 'credential', id: message.id, value: null, error: err instanceof Error ? err.message : String(err) }),
        );
        return;
      case 'auth-failure':
        this.recordFailure(message.address, message.username);
        return;
      case 'answered':
        this.answerWaiters.get(worker)?.(message.registers);
        this.answerWaiters.delete(worker);
        return;
      case 'ready':
        return;
    }
  }

  /** REGISTERs each thread has answered since it started (null for a thread being restarted). */
  answered(): Promise<(number | null)[]> {
    return Promise.all(
      this.workers.map((w) =>
        w
          ? new Promise<number>((resolve) => {
              this.answerWaiters.set(w, resolve);
              send(w, { type: 'answered' });
            })
          : null,
      ),
    );
  }

  /** A wrong password for `username` from `address`, seen by any thread: past the limit, every thread refuses the pair (or the address). */
  recordFailure(address: string, username: string): void {
    const { throttle } = this.deps;
    throttle.recordFailure(address, username);
    for (const key of Object.values(throttleKeys(address, username))) {
      const until = key === null ? null : throttle.keyUntil(key);
      if (key !== null && until !== null) for (const w of this.workers) if (w) send(w, { type: 'throttled', key, until });
    }
  }

  /** Every thread drops the credentials it cached for an account (the app changed its devices). */
  invalidateCredentials(accountId: string): void {
    for (const w of this.workers) if (w) send(w, { type: 'invalidate-credentials', accountId });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.workers.map(async (w) => {
        if (!w) return;
        const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
        send(w, { type: 'stop' });
        const forced = setTimeout(() => void w.terminate(), 2000);
        await exited;
        clearTimeout(forced);
      }),
    );
  }
}

function send(worker: Worker, message: RegistrarMainMessage): void {
  worker.postMessage(message);
}
