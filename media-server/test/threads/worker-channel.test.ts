/**
 * The worker channel over real ports: a MessageChannel between two channel
 * objects (what a worker and the main thread each hold), and real worker
 * threads for what happens when one dies.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelRequestError, WorkerChannel, workerChannel, type ChannelHandlers, type NoApi } from '../../src/threads/worker-channel.ts';

type CounterApi = {
  requests: {
    add: { params: { n: number }; result: number };
    fail: { params: { code: string | null }; result: null };
    later: { params: { ms: number }; result: string };
  };
  notices: { reset: { to: number } };
};

type MainApi = {
  requests: { whoami: { params: null; result: string } };
  notices: { tick: { count: number } };
};

const open: { close(): void }[] = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

function pair() {
  const { port1, port2 } = new MessageChannel();
  open.push(port1, port2);
  let total = 0;
  const ticks: number[] = [];
  const counterHandlers: ChannelHandlers<CounterApi> = {
    requests: {
      add: ({ n }) => {
        total += n;
        // Asks the other side something while answering: requests go both ways on one channel.
        return total;
      },
      fail: ({ code }) => {
        throw Object.assign(new Error('refused on purpose'), code ? { code } : {});
      },
      later: ({ ms }) => new Promise((resolve) => setTimeout(() => resolve(`after ${ms}`), ms)),
    },
    notices: { reset: ({ to }) => (total = to) },
  };
  const counter = new WorkerChannel<CounterApi, MainApi>(port1, counterHandlers);
  const main = new WorkerChannel<MainApi, CounterApi>(port2, {
    requests: { whoami: () => 'main' },
    notices: { tick: ({ count }) => ticks.push(count) },
  });
  return { counter, main, ticks, total: () => total };
}

describe('WorkerChannel', () => {
  it('matches each reply to its request, in both directions, and delivers notices', async () => {
    const { counter, main, ticks, total } = pair();
    // Replies may come back out of order: the slow one is answered last, each to its own caller.
    const slow = main.request('later', { ms: 50 });
    const sums = await Promise.all([main.request('add', { n: 2 }), main.request('add', { n: 3 })]);
    expect(sums).toEqual([2, 5]);
    expect(await slow).toBe('after 50');
    expect(await counter.request('whoami', null)).toBe('main');
    main.notify('reset', { to: 100 });
    counter.notify('tick', { count: 7 });
    expect(await main.request('add', { n: 1 })).toBe(101);
    await expect.poll(() => ticks).toEqual([7]);
    expect(total()).toBe(101);
    expect(main.pendingCount).toBe(0);
  });

  it('turns a handler error into a rejected request, with its errno code', async () => {
    const { main } = pair();
    await expect(main.request('fail', { code: 'EADDRINUSE' })).rejects.toMatchObject({ name: 'ChannelRequestError', message: 'refused on purpose', code: 'EADDRINUSE' });
    const err = await main.request('fail', { code: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChannelRequestError);
    expect((err as ChannelRequestError).code).toBeUndefined();
  });

  it('answers a request nobody declared with an error, and ignores what is not a channel message', async () => {
    const { port1, port2 } = new MessageChannel();
    open.push(port1, port2);
    const side = new WorkerChannel<NoApi, NoApi>(port1, { requests: {}, notices: {} });
    // A sender that does not follow the API (a bug on its side) gets a clear refusal, not silence.
    const raw = new WorkerChannel<NoApi, CounterApi>(port2, { requests: {}, notices: {} });
    port2.postMessage('not a channel message');
    port2.postMessage(null);
    port2.postMessage({ kind: 'notice', type: 'nobody-listens', payload: 1 });
    await expect(raw.request('add', { n: 1 })).rejects.toThrow('unknown request "add"');
    // "constructor" is on every object's prototype, not a handler.
    await expect((raw as unknown as WorkerChannel<NoApi, { requests: { constructor: { params: null; result: null } }; notices: Record<never, never> }>).request('constructor', null)).rejects.toThrow('unknown request "constructor"');
    expect(side.failed).toBe(false);
  });

  it('fails every waiting request when the thread exits, and refuses later ones at once', async () => {
    // A thread that never answers, then exits.
    const worker = new Worker(
      "const { parentPort } = require('node:worker_threads'); parentPort.postMessage({ kind: 'ready' }); parentPort.on('message', () => setTimeout(() => process.exit(3), 20));",
      { eval: true },
    );
    const channel = workerChannel<NoApi, CounterApi>(worker, { requests: {}, notices: {} });
    await channel.ready();
    const waiting = [channel.request('add', { n: 1 }), channel.request('later', { ms: 1 })];
    for (const w of waiting) await expect(w).rejects.toThrow('worker thread exited with code 3');
    expect(channel.failed).toBe(true);
    expect(channel.pendingCount).toBe(0);
    await expect(channel.request('add', { n: 1 })).rejects.toThrow('worker thread exited with code 3');
  });

  it('rejects ready() when the thread dies before it is up', async () => {
    const worker = new Worker("throw new Error('cannot start')", { eval: true });
    const channel = workerChannel<NoApi, CounterApi>(worker, { requests: {}, notices: {} });
    await expect(channel.ready()).rejects.toThrow('cannot start');
  });
});
