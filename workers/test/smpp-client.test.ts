import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createRedisConnection } from '@carillon/core/jobs';
import { createLogger } from '@carillon/config';
import { splitSms } from '@carillon/domain';
import { DEFAULT_SMPP_CLIENT_OPTIONS, SmppClient, type SmppClientOptions, type SubmitOutcome } from '../src/sms/smpp-client.ts';
import type { DeliveryReceipt } from '../src/sms/delivery-receipt.ts';
import type { AssembledMessage } from '../src/sms/multipart-assembler.ts';
import { startTestSmsc, type TestSmsc } from './test-smsc.ts';
import { RedisSegmentRateLimiter } from '../src/sms/segment-rate-limiter.ts';
import { REDIS_URL } from './support.ts';

/**
 * The SMPP client against the test SMSC (a real SMPP server on loopback):
 * concatenation on the wire, the window, throttling, permanent refusals,
 * drops and stalls, receipts and inbound multipart texts.
 */
const SYSTEM_ID = 'carillon';
const PASSWORD = 's3cret-pw';
const FROM = '+14155550100';

let smsc: TestSmsc | undefined;
let client: SmppClient | undefined;
const redis = createRedisConnection(REDIS_URL);
afterAll(async () => {
  await redis.quit();
});
afterEach(async () => {
  await client?.close();
  await smsc?.close();
  client = undefined;
  smsc = undefined;
});

interface Harness {
  client: SmppClient;
  receipts: DeliveryReceipt[];
  inbound: AssembledMessage[];
  logs: string[];
}

function connect(s: TestSmsc, overrides: Partial<SmppClientOptions> = {}): Harness {
  const receipts: DeliveryReceipt[] = [];
  const inbound: AssembledMessage[] = [];
  const logs: string[] = [];
  client = new SmppClient({
    ...DEFAULT_SMPP_CLIENT_OPTIONS,
    host: '127.0.0.1',
    port: s.port,
    systemId: SYSTEM_ID,
    password: PASSWORD,
    segmentsPerSecond: 10_000,
    senderSegmentsPerSecond: 10_000,
    rateLimiter: new RedisSegmentRateLimiter(redis),
    rateLimitKey: randomUUID(),
    reconnectInitialMs: 20,
    reconnectMaxMs: 200,
    throttleInitialMs: 10,
    throttleMaxMs: 100,
    log: createLogger('smpp-test', 'debug', (line) => logs.push(line)),
    onReceipt: async (r) => void receipts.push(r),
    onInbound: async (m) => void inbound.push(m),
    ...overrides,
  });
  client.start();
  return { client, receipts, inbound, logs };
}

const until = async (cond: () => boolean, what: string): Promise<void> => {
  // Generous: only a broken client takes this long; a working one is done in milliseconds.
  const deadline = Date.now() + 30_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

const to = (i: number) => `+1415555${String(1000 + i).padStart(4, '0')}`;
const sms = (i: number, text = `message number ${i}`) => ({ from: FROM, to: to(i), split: splitSms(text, i & 0xff) });

describe('SMPP client', () => {
  it('sends a 400-character text as 3 concatenated GSM-7 segments, and as UCS-2 with an emoji; receipts come back by message id', async () => {
    smsc = await startTestSmsc({ systemId: SYSTEM_ID, password: PASSWORD });
    const h = connect(smsc);
    const long = 'The quick brown fox jumps over the lazy dog. '.repeat(9).slice(0, 400);
    const outcome = await h.client.submit({ from: FROM, to: to(1), split: splitSms(long, 0x21) });
    expect(outcome.status).toBe('accepted');
    const parts = smsc.received.filter((r) => r.to === to(1).slice(1));
    expect(parts).toHaveLength(3);
    expect(parts.map((p) => p.dataCoding)).toEqual([0, 0, 0]);
    expect(parts.map((p) => p.concatenation)).toEqual([1, 2, 3].map((sequence) => ({ reference: 0x21, total: 3, sequence })));
    expect(smsc.deliveredCounts().get(`${to(1).slice(1)}|${long}`)).toBe(1);

    const emoji = long.slice(0, 399) + '🙂';
    const uOutcome = await h.client.submit({ from: FROM, to: to(2), split: splitSms(emoji, 0x22) });
    expect(uOutcome.status).toBe('accepted');
    const uParts = smsc.received.filter((r) => r.to === to(2).slice(1));
    expect(uParts.every((p) => p.dataCoding === 8)).toBe(true);
    expect(smsc.deliveredCounts().get(`${to(2).slice(1)}|${emoji}`)).toBe(1);

    const ids = [...(outcome as { carrierMessageIds: string[] }).carrierMessageIds, ...(uOutcome as { carrierMessageIds: string[] }).carrierMessageIds];
    await until(() => h.receipts.length === ids.length, 'a receipt per segment');
    expect(h.receipts.map((r) => r.messageId).sort()).toEqual([...ids].sort());
    expect(h.receipts.every((r) => r.outcome === 'delivered')).toBe(true);
  });

  it('keeps at most the window of submit_sm unanswered', async () => {
    smsc = await startTestSmsc({ systemId: SYSTEM_ID, password: PASSWORD, ackDelayMs: 30 });
    const h = connect(smsc, { windowSize: 10 });
    const outcomes = await Promise.all(Array.from({ length: 60 }, (_, i) => h.client.submit(sms(i))));
    expect(outcomes.every((o) => o.status === 'accepted')).toBe(true);
    expect(smsc.maxInFlight).toBeLessThanOrEqual(10);
    expect(smsc.maxInFlight).toBeGreaterThan(1);
    expect(smsc.received).toHaveLength(60);
  });

  it('backs off and resends what ESME_RTHROTTLED refused, once', async () => {
    smsc = await startTestSmsc({ systemId: SYSTEM_ID, password: PASSWORD });
    const h = connect(smsc);
    await smsc.waitForBinds(1);
    smsc.throttleNext(5);
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => h.client.submit(sms(i))));
    expect(outcomes.map((o) => o.status)).toEqual(Array(20).fill('accepted'));
    expect(smsc.throttledCount).toBe(5);
    const counts = smsc.deliveredCounts();
    for (let i = 0; i < 20; i++) expect(counts.get(`${to(i).slice(1)}|message number ${i}`)).toBe(1);
  });

  it('fails a permanently refused message at once, with the carrier code, and sends none of its other parts', async () => {
    smsc = await startTestSmsc({ systemId: SYSTEM_ID, password: PASSWORD });
    const h = connect(smsc, { windowSize: 1 });
    smsc.refuseDestination(to(7));
    const outcome = await h.client.submit({ from: FROM, to: to(7), split: splitSms('x'.repeat(400), 1) });
    expect(outcome).toMatchObject({ status: 'failed', errorCode: 0x0b });
    expect(smsc.received.filter((r) => r.to === to(7).slice(1))).toHaveLength(0);
    expect(h.client.stats.written).toBe(1);
  });

  it('after a drop mid-batch, rebinds and sends the rest; what was unanswered is unknown, nothing twice', async () => {
    smsc = await startTestSmsc({ systemId: SYSTEM_ID, password: PASSWORD, ackDelayMs: 5 });
    const h = connect(smsc);
    await smsc.waitForBinds(1);
    const dropped = smsc.dropAfter(15);
    const outcomes = await Promise.all(Array.from({ length: 80 }, (_, i) => h.client.submit(sms(i))));
    await dropped;
    expect(smsc.binds.length).toBeGreaterThanOrEqual(2);
    expectExactlyOnce(smsc, outcomes);
    const unknown = outcomes.filter((o) => o.status === 'unknown');
    expect(unknown.length).toBeGreaterThanOrEqual(1);
    expect(unknown.length).toBeLessThanOrEqual(10);
    expect(unknown[0]).toMatchObject({ reason: expect.stringMatching(/connection lost before the answer/) });
  });

  it('marks unknown what a stalled SMSC never answered, drops the link and carries on after it', async () => {
    smsc = await startTestSmsc({ systemId: SYSTEM_ID, password: PASSWORD });
    const h = connect(smsc, { responseTimeoutMs: 300 });
    await smsc.waitForBinds(1);
    smsc.stall();
    const stalled = await Promise.all([1, 2, 3].map((i) => h.client.submit(sms(i))));
    expect(stalled.map((o) => o.status)).toEqual(['unknown', 'unknown', 'unknown']);
    expect(stalled[0]).toMatchObject({ reason: expect.stringMatching(/no submit_sm_resp within 300 ms|connection lost/) });
    smsc.resume();
    const after = await h.client.submit(sms(4));
    expect(after.status).toBe('accepted');
    expect(smsc.binds.length).toBeGreaterThanOrEqual(2);
  });

  it('keeps trying a refused bind with backoff, and never logs the password', async () => {
    smsc = await startTestSmsc({ systemId: SYSTEM_ID, password: 'another' });
    const h = connect(smsc);
    await until(() => smsc!.refusedBinds >= 2, 'two refused binds');
    expect(h.client.isBound).toBe(false);
    expect(h.logs.some((l) => l.includes('ESME_RINVPASWD'))).toBe(true);
    expect(h.logs.join('\n')).not.toContain(PASSWORD);
  });

  it('reassembles an inbound 3-part text into one, and asks the SMSC to retry when it cannot be stored', async () => {
    smsc = await startTestSmsc({ systemId: SYSTEM_ID, password: PASSWORD });
    let failNext = false;
    const inbound: AssembledMessage[] = [];
    connect(smsc, {
      onInbound: async (m) => {
        if (failNext) throw new Error('database down');
        inbound.push(m);
      },
    });
    await smsc.waitForBinds(1);
    const text = 'Bonjour, ceci est un long message. '.repeat(12).slice(0, 400);
    expect(await smsc.sendInbound(to(1), FROM, text)).toEqual([0, 0, 0]);
    expect(inbound).toEqual([{ from: to(1), to: FROM, text, encoding: 'gsm7', parts: 3, complete: true }]);
    expect(await smsc.sendInbound(to(2), FROM, 'Hi 👋')).toEqual([0]);
    expect(inbound[1]).toMatchObject({ text: 'Hi 👋', encoding: 'ucs2', parts: 1 });
    failNext = true;
    expect(await smsc.sendInbound(to(3), FROM, 'lost?')).toEqual([0x64]);
  });

  it('asks a flooding SMSC to slow down (ESME_RTHROTTLED) rather than hold more texts than its limit', async () => {
    smsc = await startTestSmsc({ systemId: SYSTEM_ID, password: PASSWORD });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const inbound: AssembledMessage[] = [];
    connect(smsc, {
      maxInboundInFlight: 2,
      onInbound: async (m) => {
        await gate;
        inbound.push(m);
      },
    });
    await smsc.waitForBinds(1);
    const first = smsc.sendInbound(to(1), FROM, 'one');
    const second = smsc.sendInbound(to(2), FROM, 'two');
    // Same connection, so the third is read after the first two, both still being stored.
    expect(await smsc.sendInbound(to(3), FROM, 'three')).toEqual([0x58]);
    release();
    expect(await first).toEqual([0]);
    expect(await second).toEqual([0]);
    expect(inbound.map((m) => m.text).sort()).toEqual(['one', 'two']);
  });

  it('binds a transmitter and a receiver where the carrier asks for it', async () => {
    smsc = await startTestSmsc({ systemId: SYSTEM_ID, password: PASSWORD });
    const h = connect(smsc, { bindMode: 'transmitter_receiver' });
    await smsc.waitForBinds(2);
    expect(smsc.binds.map((b) => b.command).sort()).toEqual(['bind_receiver', 'bind_transmitter']);
    expect((await h.client.submit(sms(1))).status).toBe('accepted');
    await until(() => h.receipts.length === 1, 'the receipt');
  });
});

/** Each message the SMSC took appears once; accepted ones were taken; failed ones were not. */
function expectExactlyOnce(s: TestSmsc, outcomes: SubmitOutcome[]): void {
  const counts = s.deliveredCounts();
  outcomes.forEach((o, i) => {
    const n = counts.get(`${to(i).slice(1)}|message number ${i}`) ?? 0;
    if (o.status === 'accepted') expect(n, `message ${i}`).toBe(1);
    else if (o.status === 'unknown') expect(n, `message ${i}`).toBeLessThanOrEqual(1);
    else expect(n, `message ${i} (${o.status})`).toBe(0);
  });
  for (const [key, n] of counts) expect(n, key).toBe(1);
}
