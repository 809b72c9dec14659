/**
 * The one typed channel for RPC between the main thread and a worker thread
 * (media workers, registrar threads). Each side declares what it answers and
 * what it hears (a `ChannelApi`); the other side can only send those, with
 * those shapes. A request gets exactly one reply, matched by id; a notice is
 * one-way. When the thread goes away, every request still waiting fails at
 * once instead of hanging, and later ones fail immediately.
 *
 * It carries control only: media packets never cross a thread boundary.
 */
import type { MessagePort, Worker } from 'node:worker_threads';

/** What one side of a channel offers: requests it answers, notices it listens to. */
export interface ChannelApi {
  requests: Record<string, { params: unknown; result: unknown }>;
  notices: Record<string, unknown>;
}

/** An API with nothing in it, for a side that only sends. */
export interface NoApi extends ChannelApi {
  requests: Record<never, never>;
  notices: Record<never, never>;
}

/** The handlers a side registers for its own API: a request handler's value (or promise) is the reply. */
export interface ChannelHandlers<Local extends ChannelApi> {
  requests: { [K in keyof Local['requests']]: (params: Local['requests'][K]['params']) => Local['requests'][K]['result'] | Promise<Local['requests'][K]['result']> };
  notices: { [K in keyof Local['notices']]: (payload: Local['notices'][K]) => void };
}

/** What crosses the port. `ready` is the thread saying it can take requests. */
export type ChannelMessage =
  | { kind: 'request'; id: number; op: string; params: unknown }
  | { kind: 'reply'; id: number; ok: true; result: unknown }
  | { kind: 'reply'; id: number; ok: false; error: string; code?: string }
  | { kind: 'notice'; type: string; payload: unknown }
  | { kind: 'ready' };

/** The part of a MessagePort or a Worker the channel uses. */
export interface ChannelPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/** A reply that says the other side failed; `code` carries an errno code such as EADDRINUSE. */
export class ChannelRequestError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.name = 'ChannelRequestError';
    this.code = code;
  }
}

export class WorkerChannel<Local extends ChannelApi, Remote extends ChannelApi> {
  private readonly port: ChannelPort;
  private readonly handlers: ChannelHandlers<Local>;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  private nextId = 1;
  private failure: Error | null = null;
  private readyWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private isReady = false;

  constructor(port: ChannelPort, handlers: ChannelHandlers<Local>) {
    this.port = port;
    this.handlers = handlers;
    port.on('message', this.onMessage);
  }

  /** Requests still waiting for their reply. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Whether the channel failed (the thread exited): requests are refused from then on. */
  get failed(): boolean {
    return this.failure !== null;
  }

  request<K extends keyof Remote['requests'] & string>(op: K, params: Remote['requests'][K]['params']): Promise<Remote['requests'][K]['result']> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.post({ kind: 'request', id, op, params });
    });
  }

  notify<K extends keyof Remote['notices'] & string>(type: K, payload: Remote['notices'][K]): void {
    if (this.failure) return;
    this.post({ kind: 'notice', type, payload });
  }

  /** The thread side says it is up (after its own start-up work). */
  announceReady(): void {
    this.post({ kind: 'ready' });
  }

  /** The main side waits for the thread's `announceReady()`; rejects if the channel fails first. */
  ready(): Promise<void> {
    if (this.isReady) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  /** The other side is gone: everything waiting fails with `err`, and so does every later request. */
  fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const w of this.readyWaiters.splice(0)) w.reject(err);
  }

  /** Stops listening (the port is being closed); pending requests fail. */
  close(): void {
    this.port.off('message', this.onMessage);
    this.fail(new Error('worker channel closed'));
  }

  private post(message: ChannelMessage): void {
    this.port.postMessage(message);
  }

  private readonly onMessage = (raw: unknown): void => {
    const message = raw as ChannelMessage;
    if (!message || typeof message !== 'object') return;
    switch (message.kind) {
      case 'reply': {
        const p = this.pending.get(message.id);
        if (!p) return;
        this.pending.delete(message.id);
        if (message.ok) p.resolve(message.result);
        else p.reject(new ChannelRequestError(message.error, message.code));
        return;
      }
      case 'request':
        this.answer(message);
        return;
      case 'notice': {
        const handler = (this.handlers.notices as Record<string, ((payload: unknown) => void) | undefined>)[message.type];
        // A notice nobody declared is a bug on the sending side; there is no one to answer.
        handler?.(message.payload);
        return;
      }
      case 'ready':
        this.isReady = true;
        for (const w of this.readyWaiters.splice(0)) w.resolve();
        return;
    }
  };

  private answer(message: Extract<ChannelMessage, { kind: 'request' }>): void {
    const handler = Object.hasOwn(this.handlers.requests, message.op)
      ? (this.handlers.requests as Record<string, (params: unknown) => unknown>)[message.op]
      : undefined;
    const reply = (result: Promise<unknown>) =>
      result.then(
        (value) => this.post({ kind: 'reply', id: message.id, ok: true, result: value ?? null }),
        (err: unknown) => {
          const error = err instanceof Error ? err : new Error(String(err));
          const code = (error as NodeJS.ErrnoException).code;
          this.post({ kind: 'reply', id: message.id, ok: false, error: error.message, ...(typeof code === 'string' ? { code } : {}) });
        },
      );
    if (!handler) {
      void reply(Promise.reject(new Error(`unknown request ${JSON.stringify(message.op)}`)));
      return;
    }
    void reply(new Promise((resolve) => resolve(handler(message.params))));
  }
}

/**
 * The main thread's channel to a Worker: failed when the worker errors or
 * exits, so nothing waits on a dead thread.
 */
export function workerChannel<Local extends ChannelApi, Remote extends ChannelApi>(
  worker: Worker,
  handlers: ChannelHandlers<Local>,
): WorkerChannel<Local, Remote> {
  const channel = new WorkerChannel<Local, Remote>(worker as unknown as ChannelPort, handlers);
  worker.on('error', (err) => channel.fail(err));
  worker.on('exit', (code) => channel.fail(new Error(`worker thread exited with code ${code}`)));
  return channel;
}

/** A worker thread's channel to the main thread (its parentPort). */
export function parentChannel<Local extends ChannelApi, Remote extends ChannelApi>(
  port: MessagePort,
  handlers: ChannelHandlers<Local>,
): WorkerChannel<Local, Remote> {
  const channel = new WorkerChannel<Local, Remote>(port as unknown as ChannelPort, handlers);
  port.on('close', () => channel.fail(new Error('the main thread closed the channel')));
  return channel;
}
