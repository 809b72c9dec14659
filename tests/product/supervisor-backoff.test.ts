import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@carillon/config';
import { Supervisor } from '../../scripts/lib/supervisor.ts';

/**
 * The supervisor of `npm start` (scripts/lib/supervisor.ts) with real child
 * processes: a service that dies is restarted after a delay that doubles while
 * it keeps dying and starts over once it has stayed up; its process group dies
 * with it; nothing restarts after stop().
 */
function supervise(backoff: { minMs: number; maxMs: number; stableAfterMs: number }) {
  const entries: { msg: string; service?: string; delayMs?: number; pid?: number }[] = [];
  const lines: string[] = [];
  const supervisor = new Supervisor({
    command: 'sh',
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? '' },
    log: createLogger('supervisor-test', 'info', (line) => entries.push(JSON.parse(line) as (typeof entries)[number])),
    output: (name, line) => lines.push(`${name}: ${line}`),
    onChange: () => undefined,
    backoff,
  });
  const deaths = (service: string) => entries.filter((e) => e.msg === 'service stopped unexpectedly; restarting it' && e.service === service);
  return { supervisor, entries, lines, deaths };
}

async function until(what: string, probe: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('service restarts', () => {
  it('restarts a service that keeps dying after a doubling delay, capped; and after one that stayed up, after the first delay again', { timeout: 60_000 }, async () => {
    const { supervisor, deaths } = supervise({ minMs: 100, maxMs: 400, stableAfterMs: 2000 });
    supervisor.start([
      { name: 'crashing', args: ['-c', 'exit 3'] },
      // Up for longer than stableAfterMs each time.
      { name: 'steady', args: ['-c', 'sleep 2.5; exit 4'] },
    ]);
    try {
      await until('five deaths of the crashing service and three of the steady one', () => deaths('crashing').length >= 5 && deaths('steady').length >= 3);
      expect(deaths('crashing').slice(0, 5).map((e) => e.delayMs)).toEqual([100, 200, 400, 400, 400]);
      expect(deaths('steady').slice(0, 3).map((e) => e.delayMs)).toEqual([100, 100, 100]);
    } finally {
      await supervisor.stop();
    }
  });

  it('kills what a dead service spawned, and restarts nothing after stop()', async () => {
    const { supervisor, entries, lines } = supervise({ minMs: 100, maxMs: 100, stableAfterMs: 60_000 });
    // The service leaves a child behind (in its process group) and dies.
    supervisor.start([{ name: 'parent', args: ['-c', 'sleep 30 & echo "child $!"; sleep 0.2; exit 1'] }]);
    try {
      await until('the service to report its child', () => lines.some((l) => l.startsWith('parent: child ')));
      const child = Number(lines.find((l) => l.startsWith('parent: child '))!.split(' ')[2]);
      await until('the dead service’s child to be killed', () => !fs.existsSync(`/proc/${child}`) || /\) Z /.test(fs.readFileSync(`/proc/${child}/stat`, 'utf8')));
    } finally {
      await supervisor.stop();
    }
    const started = entries.filter((e) => e.msg === 'service started').length;
    await new Promise((r) => setTimeout(r, 300));
    expect(entries.filter((e) => e.msg === 'service started').length).toBe(started);
    expect(supervisor.pids()).toEqual({});
  });
});
