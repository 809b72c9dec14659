import { describe, expect, it } from 'vitest';
import { JOB_DATA_SCHEMAS, parseJobData, QueueName } from '../src/jobs.ts';
import { callCommandChannel, callCommandRequest, parseCallCommand, parseCallEvent, parseCallOwner, readCallCommand } from '../src/call-control.ts';
import { parseConfigChange } from '../src/config-changes.ts';

const owner = { accountId: '7b0c2a52-8d1e-4b8e-9a57-0d2f5c1e3a10', userId: null };

describe('job payload contracts', () => {
  it('has a schema for every queue', () => {
    expect(Object.keys(JOB_DATA_SCHEMAS).sort()).toEqual(Object.values(QueueName).sort());
  });

  it('accepts a payload as the producers write it and refuses one missing its owner or of an unknown kind', () => {
    expect(parseJobData('fax-render', { ...owner, kind: 'send', faxId: 'f1' })).toEqual({ ...owner, kind: 'send', faxId: 'f1' });
    expect(parseJobData('recording-export', { kind: 'sweep-expired' })).toEqual({ kind: 'sweep-expired' });
    expect(() => parseJobData('template-apply', { applicationId: 'a1', userId: null })).toThrow(/accountId/);
    expect(() => parseJobData('recording-export', { ...owner, kind: 'import', exportId: 'e1' })).toThrow();
  });
});

describe('call-control contracts', () => {
  const command = { commandId: 'c8a1f3de-0b7a-4c55-8f0e-2a9d4b6e1f20', accountId: owner.accountId, callId: 'abc@host', requestedBy: { userId: 'a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d' } };

  it('reads the commands it knows, and nothing else', () => {
    expect(parseCallCommand(JSON.stringify({ ...command, type: 'hangup' }))).toEqual({ ...command, type: 'hangup' });
    expect(parseCallCommand(JSON.stringify({ ...command, type: 'transfer', side: 'b', target: '+33123456789' }))?.type).toBe('transfer');
    expect(parseCallCommand(JSON.stringify({ ...command, type: 'transfer', side: 'b', target: 'sip:evil@x' }))).toBeNull();
    expect(parseCallCommand(JSON.stringify({ ...command, type: 'self-destruct' }))).toBeNull();
    expect(parseCallCommand('not json')).toBeNull();
    expect(parseCallEvent(JSON.stringify({ type: 'command-result', commandId: command.commandId, accountId: owner.accountId, callId: 'abc@host', outcome: 'not_found' }))?.type).toBe('command-result');
    expect(callCommandChannel('node-1')).toBe('carillon:calls:commands:node-1');
  });

  it('says why a command is refused, with the ids it could read so the refusal reaches the sender', () => {
    const bad = readCallCommand(JSON.stringify({ ...command, type: 'transfer', side: 'c', target: '101' }));
    expect(bad).toMatchObject({ ok: false, commandId: command.commandId, accountId: command.accountId, callId: 'abc@host' });
    expect(!bad.ok && bad.reason).toMatch(/^invalid command: side/);
    expect(readCallCommand('{')).toEqual({ ok: false, reason: 'not JSON', commandId: null, accountId: null, callId: null });
    expect(readCallCommand(JSON.stringify({ type: 'hangup', commandId: 'nope' }))).toMatchObject({ ok: false, commandId: null });
    expect(readCallCommand(JSON.stringify({ ...command, type: 'hangup' }))).toEqual({ ok: true, command: { ...command, type: 'hangup' } });
  });

  it('takes from the API only what to do, never the ids the app fills in', () => {
    expect(callCommandRequest.safeParse({ type: 'hangup' }).success).toBe(true);
    expect(callCommandRequest.safeParse({ type: 'hangup', accountId: command.accountId }).success).toBe(false);
    expect(callCommandRequest.safeParse({ type: 'start-recording' }).success).toBe(true);
  });

  it('reads a call owner and a configuration change, and nothing else', () => {
    expect(parseCallOwner(JSON.stringify({ nodeId: 'ms-1', accountId: owner.accountId }))).toEqual({ nodeId: 'ms-1', accountId: owner.accountId });
    expect(parseCallOwner(null)).toBeNull();
    expect(parseCallOwner('{"nodeId":""}')).toBeNull();
    expect(parseConfigChange(JSON.stringify({ accountId: owner.accountId, subjects: ['trunks', 'numbers'] }))).toEqual({ accountId: owner.accountId, subjects: ['trunks', 'numbers'] });
    expect(parseConfigChange(JSON.stringify({ accountId: owner.accountId, subjects: [] }))).toBeNull();
    expect(parseConfigChange(JSON.stringify({ accountId: owner.accountId, subjects: ['everything'] }))).toBeNull();
    expect(parseConfigChange('garbage')).toBeNull();
  });
});
