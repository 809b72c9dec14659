import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createResponse } from '../../src/sip/message/index.ts';
import { startStack } from './support/stack.ts';

/**
 * Interop with a SIP implementation we did not write: SIPp (Debian package
 * sip-tester) plays the UAC from scenarios/options.xml over UDP and TCP.
 */
const SCENARIO = path.join(import.meta.dirname, 'scenarios', 'options.xml');
const running: { stop(): unknown }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

/** A port free for both UDP and TCP on loopback, for SIPp's own socket. */
async function freePort(): Promise<number> {
  for (;;) {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const udp = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (ok) return port;
  }
}

async function runSipp(
  target: number,
  transport: 'u1' | 't1',
  calls: number,
): Promise<{ code: number | null; output: string; errors: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-sipp-'));
  const errorFile = path.join(dir, 'errors.log');
  // -error_file keeps SIPp's logs out of the scenario folder; -cp 0 avoids clashing on control port 8888.
  const args = [
    `127.0.0.1:${target}`,
    '-sf',
    SCENARIO,
    '-t',
    transport,
    '-m',
    String(calls),
    '-l',
    '1',
    '-timeout',
    '10s',
    '-timeout_error',
    '-trace_err',
    '-error_file',
    errorFile,
    '-i',
    '127.0.0.1',
    '-p',
    String(await freePort()),
    '-cp',
    '0',
    '-nostdin',
  ];
  const child = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  const errors = fs.existsSync(errorFile) ? fs.readFileSync(errorFile, 'utf8') : '';
  fs.rmSync(dir, { recursive: true, force: true });
  return { code, output, errors };
}

describe('interop with SIPp', () => {
  for (const [name, mode] of [
    ['UDP', 'u1'],
    ['TCP', 't1'],
  ] as const) {
    it(`answers SIPp's OPTIONS over ${name} with 200 and SIPp counts every call successful`, async () => {
      const stack = await startStack();
      running.push(stack);
      const methods: string[] = [];
      stack.layer.onRequest((request, tx) => {
        methods.push(request.method);
        tx.respond(createResponse(request, 200));
      });
      const port = name === 'UDP' ? stack.ports.UDP! : stack.ports.TCP!;
      const result = await runSipp(port, mode, 5);
      expect(result.errors).toBe('');
      expect(result.code, result.output.slice(-2_000)).toBe(0);
      expect(methods).toEqual(['OPTIONS', 'OPTIONS', 'OPTIONS', 'OPTIONS', 'OPTIONS']);
    });
  }

  it('makes SIPp fail when the answer is not the 200 its scenario expects', async () => {
    const stack = await startStack();
    running.push(stack);
    stack.layer.onRequest((request, tx) => tx.respond(createResponse(request, 486)));
    const result = await runSipp(stack.ports.UDP!, 'u1', 1);
    expect(result.code).not.toBe(0);
    expect(result.errors).toMatch(/486/);
  });
});
