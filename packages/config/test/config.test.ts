import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, createLogger, loadConfig, redact } from '@carillon/config';

const root = path.resolve(import.meta.dirname, '../../..');

describe('configuration', () => {
  it('has working defaults for the embedded setup', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.publicUrl).toBe('http://127.0.0.1:3000');
    expect(path.isAbsolute(c.dataDir)).toBe(true);
    expect(c.RECORDING_EXPORT_TTL_HOURS).toBe(24);
    expect(c.FFMPEG_PATH).toBeUndefined();
    expect(loadConfig({ RECORDING_EXPORT_TTL_HOURS: '72', FFMPEG_PATH: '/usr/bin/ffmpeg' })).toMatchObject({ RECORDING_EXPORT_TTL_HOURS: 72, FFMPEG_PATH: '/usr/bin/ffmpeg' });
    expect(c.ENABLE_UNRELEASED).toEqual([]);
    expect(loadConfig({ ENABLE_UNRELEASED: 'answering_rules, ivr' }).ENABLE_UNRELEASED).toEqual(['answering_rules', 'ivr']);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ LOGIN_MAX_FAILURES: '0' }, 'LOGIN_MAX_FAILURES'],
    [{ RECORDING_EXPORT_TTL_HOURS: '0' }, 'RECORDING_EXPORT_TTL_HOURS'],
    [{ RECORDING_EXPORT_TTL_HOURS: 'a day' }, 'RECORDING_EXPORT_TTL_HOURS'],
    [{ ENABLE_UNRELEASED: 'answering rules' }, 'ENABLE_UNRELEASED'],
  ])('refuses %j naming %s', (env, variable) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variables).toEqual([variable]);
    expect((error as Error).message).toContain(variable);
  });

  it('never echoes a bad value, which may be a secret', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://root:hunter2@db/x' })).toThrow(/DATABASE_URL/);
    try {
      loadConfig({ DATABASE_URL: 'mysql://root:hunter2@db/x' });
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2');
    }
  });

  it.each(['app/server.ts', 'workers/src/main.ts', 'media-server/src/main.ts', 'scripts/run-all.ts'])(
    '%s stops at start with a message naming the variable',
    (entry) => {
      const r = spawnSync(process.execPath, [path.join(root, entry)], {
        env: { PATH: process.env.PATH, PORT: 'not-a-port', REDIS_URL: 'redis://127.0.0.1:1' },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/PORT/);
    },
  );
});

describe('logger', () => {
  it('redacts secrets by key and passwords inside URLs', () => {
    const lines: string[] = [];
    const log = createLogger('t', 'debug', (l) => lines.push(l));
    log.info('login', { password: 'Tulip7Harbor', pin: '482915', newPin: '1', securityAnswer: 'Rex', shipping: 'kept', url: 'postgres://u:s3cret@h/db' });
    const out = lines.join('\n');
    for (const secret of ['Tulip7Harbor', '482915', 'Rex', 's3cret']) expect(out).not.toContain(secret);
    expect(out).toContain('kept');
    expect(redact({ nested: { token: 'abc' } })).toEqual({ nested: { token: '[redacted]' } });
  });
});
