import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResponse, parseSipMessage } from '../../src/sip/message/index.ts';
import { StreamFramer } from '../../src/sip/transport/index.ts';
import { eventually } from './support/inbox.ts';
import { FUZZ_SEEDS, generateFuzzCorpus, type FuzzCase } from './support/fuzz-corpus.ts';
import { rawRequest } from './support/requests.ts';
import { FAST_TIMERS, startStack } from './support/stack.ts';
import { FUZZ_CORPUS_DIR } from './support/write-fuzz-corpus.ts';

/** The largest UDP payload over IPv4; bigger cases only make sense on TCP. */
const MAX_DATAGRAM = 65_507;
const HANG_MS = 3_000;

const corpus: FuzzCase[] = fs
  .readdirSync(FUZZ_CORPUS_DIR)
  .filter((f) => f.endsWith('.sip'))
  .sort()
  .map((name) => ({ name, data: fs.readFileSync(path.join(FUZZ_CORPUS_DIR, name)) }));

const statusOf = (data: Buffer) =>
  /^SIP\/2\.0 ([0-9]{3}) /.exec(data.toString('latin1', 0, 16))?.[1] ?? 'not a response';
const probe = (id: string, transport: string) =>
  rawRequest('OPTIONS', { port: 5999, transport, callId: id, rport: true });

describe('SIP fuzz corpus', () => {
  it('is what the generator makes: at least 200 cases, under 2 MB', () => {
    const generated = generateFuzzCorpus();
    expect(corpus.map((c) => c.name)).toEqual(generated.map((c) => c.name));
    corpus.forEach((c, i) => expect(c.data.equals(generated[i]!.data), c.name).toBe(true));
    expect(corpus.length).toBeGreaterThanOrEqual(200);
    expect(corpus.reduce((n, c) => n + c.data.length, 0)).toBeLessThan(2 << 20);
    // The mutations start from valid messages.
    for (const seed of Object.values(FUZZ_SEEDS)) expect(parseSipMessage(Buffer.from(seed)).ok).toBe(true);
  });

  describe('replayed against a running transport and transaction layer', () => {
    let stack: Awaited<ReturnType<typeof startStack>>;
    let answered = 0;

    beforeAll(async () => {
      // Many short connections from one address, and a short idle timeout so a truncated frame cannot hold one for long.
      stack = await startStack(FAST_TIMERS, { maxConnectionsPerIp: 10_000, idleTimeoutMs: 500 });
      stack.layer.onRequest((request, tx) => {
        answered++;
        tx.respond(createResponse(request, 200));
      });
    });
    afterAll(() => stack.stop());

    it('over UDP: each datagram gets a 400 (505, 416) if malformed, a 200 if still valid, or nothing; never a hang', async () => {
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      const received: Buffer[] = [];
      socket.on('message', (data) => received.push(data));
      const failures: string[] = [];
      const outcomes = { answered400: 0, answered200: 0, silent: 0 };
      try {
        for (const [i, c] of corpus.entries()) {
          if (c.data.length > MAX_DATAGRAM || c.data.length === 0) continue;
          const mark = received.length;
          const id = `probe-udp-${i}`;
          await new Promise<void>((resolve, reject) =>
            socket.send(c.data, stack.ports.UDP!, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
          );
          await new Promise<void>((resolve, reject) =>
            socket.send(probe(id, 'UDP'), stack.ports.UDP!, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
          );
          const isProbeAnswer = (d: Buffer) => d.includes(`${id}@test`) && statusOf(d) === '200';
          try {
            await eventually(
              () => received.slice(mark).some(isProbeAnswer),
              HANG_MS,
              `answer to the request sent after ${c.name}`,
            );
          } catch (err) {
            failures.push(`${c.name}: ${(err as Error).message}`);
            continue;
          }
          // Loopback keeps datagram order, so whatever came before the probe's answer answered the case.
          const replies = received
            .slice(mark, mark + received.slice(mark).findIndex(isProbeAnswer))
            .map(statusOf);
          const parsed = parseSipMessage(c.data);
          // A malformed request gets 400, or 505 for another SIP version, 416 for an unknown URI scheme.
          const expected = parsed.ok ? '200' : String(parsed.status ?? 400);
          if (replies.length > 1 || replies.some((s) => s !== expected))
            failures.push(`${c.name}: expected ${expected} or nothing, got ${replies.join(', ')}`);
          if (replies.length === 0) outcomes.silent++;
          else if (replies[0] !== '200') outcomes.answered400++;
          else outcomes.answered200++;
        }
      } finally {
        socket.close();
      }
      expect(failures).toEqual([]);
      // The corpus exercises all three outcomes.
      expect(outcomes.answered400).toBeGreaterThan(20);
      expect(outcomes.silent).toBeGreaterThan(20);
      expect(outcomes.answered200).toBeGreaterThan(0);
      expect(stack.transport.counters.badRequests).toBeGreaterThanOrEqual(outcomes.answered400);
    });

    it('over TCP: each case on its own connection gets 400s (505s, 416s), 200s or nothing, and the connection answers or closes in time', async () => {
      const failures: string[] = [];
      let closedByServer = 0;
      const runCase = async (i: number, c: FuzzCase) => {
        const socket = net.connect({ host: '127.0.0.1', port: stack.ports.TCP! });
        socket.on('error', () => {});
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('error', reject);
        });
        const statuses: string[] = [];
        const id = `probe-tcp-${i}`;
        let probeAnswered = false;
        const framer = new StreamFramer(1 << 20);
        socket.on('data', (chunk: Buffer) => {
          for (const event of framer.push(chunk)) {
            if (event.kind !== 'message') continue;
            if (event.frame.includes(`${id}@test`) && statusOf(event.frame) === '200') probeAnswered = true;
            else statuses.push(statusOf(event.frame));
          }
        });
        const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
        socket.write(c.data);
        socket.write(probe(id, 'TCP'));
        const outcome = await Promise.race([
          closed.then(() => 'closed' as const),
          eventually(() => probeAnswered, HANG_MS, 'probe').then(
            () => 'answered' as const,
            () => 'hang' as const,
          ),
        ]);
        socket.destroy();
        if (outcome === 'hang') failures.push(`${c.name}: neither answered nor closed within ${HANG_MS} ms`);
        if (outcome === 'closed' && !probeAnswered) closedByServer++;
        const bad = statuses.filter((s) => !['200', '400', '416', '505'].includes(s));
        if (bad.length) failures.push(`${c.name}: got ${bad.join(', ')}`);
      };
      const batch = 50;
      for (let start = 0; start < corpus.length; start += batch) {
        await Promise.all(corpus.slice(start, start + batch).map((c, k) => runCase(start + k, c)));
      }
      expect(failures).toEqual([]);
      expect(closedByServer).toBeGreaterThan(20);
      expect(stack.transport.counters.framingErrors).toBeGreaterThan(0);
    });

    it('still serves a good request afterwards, and every transaction and connection ends', async () => {
      expect(stack.transport.state).toBe('Running');
      const before = answered;
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      const replies: Buffer[] = [];
      socket.on('message', (d) => replies.push(d));
      socket.send(probe('after-fuzz', 'UDP'), stack.ports.UDP!, '127.0.0.1');
      await eventually(() => replies.length === 1, 2_000, 'answer');
      socket.close();
      expect(statusOf(replies[0]!)).toBe('200');
      expect(answered).toBe(before + 1);
      await eventually(
        () => stack.transport.connectionCount === 0 && stack.transport.socketCount === 0,
        2_000,
        'connections closed',
      );
      // Timers J and L (64·T1) are the longest a finished transaction lingers.
      await eventually(
        () => stack.layer.transactionCount.server === 0,
        64 * FAST_TIMERS.T1! + 1_000,
        'transactions ended',
      );
    });
  });
});
