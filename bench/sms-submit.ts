/**
 * SMPP submit rate (issue 18 benchmarks): the workers' SMPP client against the
 * test SMSC on loopback (workers/test/test-smsc.ts), no database, so the
 * figure is the protocol path alone.
 *   1. Sustained submit_sm rate with a window of 10 and of 50, the SMSC
 *      answering after `ackDelayMs` (1 ms: a fast local SMSC; 20 ms: a carrier
 *      a few hops away, where the window is what sets the rate).
 *   2. Accuracy of the per-bind rate limiter: set to 100 segments/s, measured
 *      over `seconds`.
 *
 *   npx node bench/sms-submit.ts [messages, default 5000] [seconds for the limiter, default 10]
 */
import os from 'node:os';
import { createLogger } from '@carillon/config';
import { splitSms } from '@carillon/domain';
import { DEFAULT_SMPP_CLIENT_OPTIONS, SmppClient } from '../workers/src/sms/smpp-client.ts';
import { startTestSmsc } from '../workers/test/test-smsc.ts';

const messages = Math.max(100, Number(process.argv[2] ?? 5000));
const limiterSeconds = Math.max(2, Number(process.argv[3] ?? 10));
const log = createLogger('bench', 'error');

async function run(windowSize: number, ackDelayMs: number, count: number, segmentsPerSecond: number): Promise<{ perSecond: number; seconds: number }> {
  const smsc = await startTestSmsc({ systemId: 'bench', password: 'bench', ackDelayMs, receiptDelayMs: null });
  const client = new SmppClient({
    ...DEFAULT_SMPP_CLIENT_OPTIONS,
    host: '127.0.0.1',
    port: smsc.port,
    systemId: 'bench',
    password: 'bench',
    windowSize,
    segmentsPerSecond,
    senderSegmentsPerSecond: segmentsPerSecond,
    log,
    onReceipt: async () => undefined,
    onInbound: async () => undefined,
  });
  client.start();
  await smsc.waitForBinds(1);
  const split = splitSms('Your code is 123456. It expires in 10 minutes.', 0);
  const started = performance.now();
  const outcomes = await Promise.all(Array.from({ length: count }, (_, i) => client.submit({ from: '+14155550100', to: `+1646${String(i).padStart(7, '0')}`, split })));
  const seconds = (performance.now() - started) / 1000;
  if (outcomes.some((o) => o.status !== 'accepted')) throw new Error('a submit was not accepted');
  await client.close();
  await smsc.close();
  return { perSecond: count / seconds, seconds };
}

console.log(`${os.cpus().length} cores (${os.cpus()[0]?.model}); load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; node ${process.version}`);
for (const ackDelayMs of [1, 20]) {
  for (const windowSize of [10, 50]) {
    const { perSecond, seconds } = await run(windowSize, ackDelayMs, messages, 100_000);
    console.log(`window ${String(windowSize).padStart(2)}, SMSC answers after ${String(ackDelayMs).padStart(2)} ms: ${messages} submit_sm in ${seconds.toFixed(2)} s = ${perSecond.toFixed(0)} messages/s`);
  }
}
const limited = await run(10, 1, 100 * limiterSeconds, 100);
console.log(`rate limit 100 segments/s, ${100 * limiterSeconds} segments: measured ${limited.perSecond.toFixed(1)} segments/s over ${limited.seconds.toFixed(2)} s`);
