import { describe, expect, it } from 'vitest';
import { ConfigError } from '@carillon/config';
import { concurrencyVariable, QUEUE_SPECS, readWorkerSettings } from '../src/worker-runtime.ts';
import { REDIS_URL, spawnNode, WORKERS_MAIN } from './support.ts';

describe('workers configuration', () => {
  it('refuses to start without REDIS_URL, naming it', { timeout: 15_000 }, async () => {
    const proc = spawnNode(WORKERS_MAIN, {});
    const exit = await proc.exited;

    expect(exit.code).not.toBe(0);
    expect(exit.code).toBe(78);
    expect(proc.stderr()).toContain('REDIS_URL');
  });

  it(
    'refuses a concurrency override that is not a positive integer, naming the variable',
    { timeout: 15_000 },
    async () => {
      const proc = spawnNode(WORKERS_MAIN, { REDIS_URL, WORKER_CONCURRENCY_SYSTEM_HEALTH: '0' });
      const exit = await proc.exited;

      expect(exit.code).toBe(78);
      expect(proc.stderr()).toContain('WORKER_CONCURRENCY_SYSTEM_HEALTH');
    },
  );

  it('derives one override variable per queue and validates it', () => {
    expect(concurrencyVariable('system-health')).toBe('WORKER_CONCURRENCY_SYSTEM_HEALTH');
    expect(concurrencyVariable('transcription')).toBe('WORKER_CONCURRENCY_TRANSCRIPTION');

    const defaults = readWorkerSettings({ REDIS_URL, QUEUE_PREFIX: 'carillon' }, {});
    expect(defaults).toEqual({
      redisUrl: REDIS_URL,
      prefix: 'carillon',
      concurrency: {
        'system-health': QUEUE_SPECS['system-health'].concurrency,
        transcription: QUEUE_SPECS.transcription.concurrency,
        email: QUEUE_SPECS.email.concurrency,
        'recording-export': QUEUE_SPECS['recording-export'].concurrency,
        'fax-render': QUEUE_SPECS['fax-render'].concurrency,
        'template-apply': QUEUE_SPECS['template-apply'].concurrency,
        'sms-send': QUEUE_SPECS['sms-send'].concurrency,
        'voicemail-notify': QUEUE_SPECS['voicemail-notify'].concurrency,
        'missed-call-notify': QUEUE_SPECS['missed-call-notify'].concurrency,
      },
      lockDurationMs: 30_000,
    });
    expect(
      readWorkerSettings({ REDIS_URL, QUEUE_PREFIX: 'carillon', WORKER_LOCK_MS: 2000 }, { WORKER_CONCURRENCY_SYSTEM_HEALTH: ' 12 ' }),
    ).toMatchObject({
      concurrency: { 'system-health': 12, transcription: QUEUE_SPECS.transcription.concurrency },
      lockDurationMs: 2000,
    });

    for (const bad of ['0', '-1', '1.5', 'abc', '1e3', '99999999999999999999']) {
      expect(() => readWorkerSettings({ REDIS_URL, QUEUE_PREFIX: 'carillon' }, { WORKER_CONCURRENCY_SYSTEM_HEALTH: bad }), bad).toThrow(
        ConfigError,
      );
    }
  });

  it('reports every bad variable at once', () => {
    try {
      readWorkerSettings({ REDIS_URL: undefined, QUEUE_PREFIX: 'carillon' }, { WORKER_CONCURRENCY_SYSTEM_HEALTH: 'x' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).variables.sort()).toEqual([
        'REDIS_URL',
        'WORKER_CONCURRENCY_SYSTEM_HEALTH',
      ]);
    }
  });
});
