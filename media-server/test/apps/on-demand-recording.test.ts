import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '@carillon/config';
import { OnDemandRecording, type RecordedCall, type RecordingPrompt, type RecordingRecords } from '../../src/apps/recording/on-demand-recording.ts';

/**
 * The `*9` recording against a small fake of its boundary: the call it is lent
 * (recorder, players, the account's switch and language) and the call log.
 * What the fake records is what the real call would have done on the wire or
 * in the database; the SIPp test (sipp-calls.test.ts, "on-demand recording")
 * runs it on a live call.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-recording-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const quiet = createLogger('recording-test', 'error', () => {});

function setup(opts: { enabled?: boolean; language?: 'en' | 'fr'; unavailable?: 'not-answered' | 'monitored' | null } = {}) {
  const log: string[] = [];
  const state = { enabled: opts.enabled ?? true, language: opts.language ?? 'en', unavailable: opts.unavailable ?? null, recorderFile: null as string | null };
  const rows = new Map<string, { path: string; startedBy: string | null; seconds: number | null }>();
  const call: RecordedCall = {
    accountId: 'account-1',
    recordId: () => 'call-1',
    unavailable: () => state.unavailable,
    extensionOf: (side) => (side === 'a' ? 'ext-caller' : 'ext-callee'),
    settings: () => Promise.resolve({ enabled: state.enabled, language: state.language }),
    startRecorder: (file) => {
      state.recorderFile = file;
      log.push(`recorder on ${path.basename(file)}`);
      return Promise.resolve();
    },
    stopRecorder: () => {
      const was = state.recorderFile;
      state.recorderFile = null;
      log.push('recorder off');
      return Promise.resolve(was ? { durationMs: 2600 } : null);
    },
    announce: (prompt: RecordingPrompt, language) => {
      log.push(`announce ${prompt} ${language}`);
      return Promise.resolve();
    },
    changed: (on) => log.push(on ? 'changed on' : 'changed off'),
  };
  const records: RecordingRecords = {
    recordingStarted: (r) => {
      const id = `rec-${rows.size + 1}`;
      rows.set(id, { path: r.path, startedBy: r.startedByExtensionId, seconds: null });
      log.push(`row ${id}`);
      return Promise.resolve(id);
    },
    recordingStopped: (id, seconds) => {
      rows.get(id)!.seconds = seconds;
      log.push(`row ${id} ${seconds} s`);
      return Promise.resolve();
    },
  };
  const recording = new OnDemandRecording({ call, records, recordingsDir: dir, log: quiet });
  return { recording, log, rows, state };
}

describe('OnDemandRecording', () => {
  it('starts: the announcement first, then the recorder into the account folder, then the row (started by who typed *9)', async () => {
    const { recording, log, rows } = setup();
    await recording.toggle('b');
    expect(recording.state).toBe('Recording');
    expect(log).toEqual(['announce recording-started en', 'recorder on call-1-1.wav', 'row rec-1', 'changed on']);
    expect(rows.get('rec-1')).toMatchObject({ path: path.join(dir, 'account-1', 'call-1-1.wav'), startedBy: 'ext-callee', seconds: null });
    expect(fs.statSync(path.join(dir, 'account-1')).isDirectory()).toBe(true);
  });

  it('stops: the recorder off, the row given its duration, then the announcement; twice makes a second file', async () => {
    const { recording, log, rows } = setup();
    await recording.toggle('a');
    log.length = 0;
    await recording.toggle('a');
    expect(recording.state).toBe('Idle');
    expect(log).toEqual(['recorder off', 'row rec-1 3 s', 'changed off', 'announce recording-stopped en']);
    await recording.toggle('a');
    await recording.toggle('a');
    expect([...rows.values()].map((r) => path.basename(r.path))).toEqual(['call-1-1.wav', 'call-1-2.wav']);
    expect([...rows.values()].every((r) => r.seconds === 3 && r.startedBy === 'ext-caller')).toBe(true);
  });

  it('reads *9 from the digits of one side, within the star-code window', async () => {
    const { recording, log } = setup();
    recording.digit('a', '*');
    recording.digit('b', '9');
    recording.digit('a', '5');
    expect(recording.state).toBe('Idle');
    recording.digit('b', '*');
    recording.digit('b', '9');
    await expect.poll(() => recording.state).toBe('Recording');
    expect(log).toContain('changed on');
  });

  it('a *9 while a change is under way is ignored: one change at a time', async () => {
    const { recording, rows } = setup();
    const first = recording.toggle('a');
    expect(recording.state).toBe('Starting');
    await recording.toggle('a');
    await first;
    expect(recording.state).toBe('Recording');
    expect(rows.size).toBe(1);
  });

  it('commands: start and stop, and the reason when it cannot (already, not recording, monitored, not answered, disabled)', async () => {
    const { recording, state } = setup();
    expect(await recording.command(false)).toBe('the call is not being recorded');
    expect(await recording.command(true)).toBeNull();
    expect(recording.active).toBe(true);
    expect(await recording.command(true)).toBe('the call is already being recorded');
    expect(await recording.command(false)).toBeNull();
    expect(recording.state).toBe('Idle');
    state.unavailable = 'monitored';
    expect(await recording.command(true)).toBe('the call is being monitored');
    state.unavailable = 'not-answered';
    expect(await recording.command(true)).toBe('the call is not answered');
    state.unavailable = null;
    state.enabled = false;
    expect(await recording.command(true)).toBe('on-demand recording is disabled for this account');
    expect(recording.state).toBe('Idle');
  });

  it('does nothing when the account has it off, the call is not answered, or a monitor is on it', async () => {
    for (const opts of [{ enabled: false }, { unavailable: 'not-answered' as const }, { unavailable: 'monitored' as const }]) {
      const { recording, log, rows } = setup(opts);
      await recording.toggle('a');
      expect(recording.state).toBe('Idle');
      expect(rows.size).toBe(0);
      expect(log.filter((l) => l.startsWith('recorder') || l.startsWith('announce'))).toEqual([]);
    }
  });

  it('the call ending while it records stops the recorder and stores the row with its duration; nothing starts after', async () => {
    const { recording, log, rows } = setup();
    await recording.toggle('a');
    log.length = 0;
    await recording.close();
    expect(recording.state).toBe('Closed');
    expect(log).toEqual(['recorder off', 'row rec-1 3 s', 'changed off']);
    expect(rows.get('rec-1')!.seconds).toBe(3);
    await recording.toggle('a');
    expect(await recording.command(true)).toBe('the call is not answered');
    expect(rows.size).toBe(1);
  });

  it('the call ending while a recording starts: the start stops short, no recorder is left running and no row is written', async () => {
    const { recording, log, rows } = setup();
    const starting = recording.toggle('a');
    expect(recording.state).toBe('Starting');
    await recording.close();
    await starting;
    expect(recording.state).toBe('Closed');
    expect(log.filter((l) => l.startsWith('recorder') || l.startsWith('changed'))).toEqual([]);
    expect(rows.size).toBe(0);
  });

  it('announces in the account language', async () => {
    const { recording, log } = setup({ language: 'fr' });
    await recording.toggle('a');
    await recording.toggle('b');
    expect(log.filter((l) => l.startsWith('announce'))).toEqual(['announce recording-started fr', 'announce recording-stopped fr']);
  });
});
