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
 * Each thread keeps a copy of the authentication throttle and tells the main
 * thread of every slot it takes or gives back, which counts it and tells the
 * others, so the per-address limit holds however the kernel spreads the
 * sockets, within the bound sharedThrottle states (copies × limit).
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { Logger } from '@carillon/config';
import type { SipDeviceCredential } from '@carillon/core';
import type { AuthSlot, AuthThrottle } from './auth-throttle.ts';
import { workerChannel, type WorkerChannel } from '../threads/worker-channel.ts';
import type { RegistrarMainApi, RegistrarThreadApi, RegistrarThreadInit } from './registrar-thread-messages.ts';

export interface RegistrarThreadsDeps {
  init: Omit<RegistrarThreadInit, 'index'>;
  /** The main thread's own lookup (its database). */
  findCredential(username: string): Promise<SipDeviceCredential | null>;
  /** The main thread's copy of the authentication throttle. */
  throttle: AuthThrottle;
  /** A datagram a thread's socket received that is not a REGISTER. */
  receiveDatagram(data: Buffer, from: { address: string; port: number }): void;
  log: Logger;
}

const RESTART_DELAY_MS = 1000;

export class RegistrarThreads {
  private readonly deps: RegistrarThreadsDeps;
  private readonly workers: (RegistrarThread | null)[];
  private stopping = false;

  private constructor(deps: RegistrarThreadsDeps, count: number) {
    this.deps = deps;
    this.workers = new Array<RegistrarThread | null>(count).fill(null);
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
    return this.workers.map((w) => w?.worker.performance.eventLoopUtilization() ?? performance.eventLoopUtilization());
  }

  private spawn(index: number): Promise<void> {
    const init: RegistrarThreadInit = { ...this.deps.init, index };
    const worker = new Worker(new URL('./registrar-thread.ts', import.meta.url), { workerData: init });
    const channel: RegistrarChannel = workerChannel<RegistrarMainApi, RegistrarThreadApi>(worker, {
      requests: {
        credential: ({ username }) => this.deps.findCredential(username),
      },
      notices: {
        datagram: (message) => this.deps.receiveDatagram(Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength), message),
        'auth-slot-taken': (slot) => this.slotTaken(slot, index),
        'auth-slot-given-back': (slot) => this.slotGivenBack(slot, index),
      },
    });
    const thread: RegistrarThread = { worker, channel };
    this.workers[index] = thread;
    let ready = false;
    worker.on('error', (err) => this.deps.log.error('registrar thread failed', { index, error: err }));
    worker.on('exit', (code) => {
      if (this.workers[index] === thread) this.workers[index] = null;
      if (this.stopping || !ready) return;
      // Its socket left the group with it, so the kernel already sends its phones to the others.
      this.deps.log.error('registrar thread exited; restarting it', { index, code });
      setTimeout(() => {
        if (!this.stopping) this.spawn(index).catch((err: unknown) => this.deps.log.error('registrar thread did not restart', { index, error: err }));
      }, RESTART_DELAY_MS).unref();
    });
    return channel.ready().then(() => {
      ready = true;
    });
  }

  /** REGISTERs each thread has answered since it started (null for a thread being restarted). */
  answered(): Promise<(number | null)[]> {
    // A thread that dies meanwhile counts as one being restarted.
    return Promise.all(this.workers.map((w) => (w ? w.channel.request('answered', null).catch(() => null) : null)));
  }

  /**
   * A slot of the authentication throttle taken by thread `from`, or by the
   * main thread (null, already counted in its copy): every other copy counts
   * it. A thread being restarted misses it and starts with an empty copy.
   */
  slotTaken(slot: AuthSlot, from: number | null = null): void {
    if (from !== null) this.deps.throttle.count(slot.address, slot.username, slot.at);
    this.workers.forEach((w, i) => i !== from && w?.channel.notify('auth-slot-taken', slot));
  }

  /** A slot given back (its password was right) by thread `from` or by the main thread (null). */
  slotGivenBack(slot: AuthSlot, from: number | null = null): void {
    if (from !== null) this.deps.throttle.refund(slot.address, slot.username, slot.at);
    this.workers.forEach((w, i) => i !== from && w?.channel.notify('auth-slot-given-back', slot));
  }

  /** Every thread drops the credentials it cached for an account (the app changed its devices). */
  invalidateCredentials(accountId: string): void {
    for (const w of this.workers) w?.channel.notify('invalidate-credentials', { accountId });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.workers.map(async (w) => {
        if (!w) return;
        const exited = new Promise<void>((resolve) => w.worker.once('exit', () => resolve()));
        w.channel.notify('stop', null);
        const forced = setTimeout(() => void w.worker.terminate(), 2000);
        await exited;
        clearTimeout(forced);
      }),
    );
  }
}

type RegistrarChannel = WorkerChannel<RegistrarMainApi, RegistrarThreadApi>;

interface RegistrarThread {
  worker: Worker;
  channel: RegistrarChannel;
}
