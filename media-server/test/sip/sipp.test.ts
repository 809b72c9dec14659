import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createResponse } from '../../src/sip/message/index.ts';
import { startStack } from './support/stack.ts';
import { freeSipPort, runSipp } from '../support/sipp.ts';

/**
 * Interop with a SIP implementation we did not write: SIPp (Debian package
 * sip-tester) plays the UAC from scenarios/options.xml over UDP and TCP.
 */
const SCENARIO = path.join(import.meta.dirname, 'scenarios', 'options.xml');
const running: { stop(): unknown }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

/** SIPp plays the UAC of scenarios/options.xml against the stack on `target`. */
const optionsRun = async (target: number, transport: 'u1' | 't1', calls: number) =>
  runSipp({ scenario: SCENARIO, target: `127.0.0.1:${target}`, transport, calls, localPort: await freeSipPort(), timeoutSeconds: 10 });

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
      const result = await optionsRun(port, mode, 5);
      expect(result.errors).toBe('');
      expect(result.code, result.output.slice(-2_000)).toBe(0);
      expect(methods).toEqual(['OPTIONS', 'OPTIONS', 'OPTIONS', 'OPTIONS', 'OPTIONS']);
    });
  }

  it('makes SIPp fail when the answer is not the 200 its scenario expects', async () => {
    const stack = await startStack();
    running.push(stack);
    stack.layer.onRequest((request, tx) => tx.respond(createResponse(request, 486)));
    const result = await optionsRun(stack.ports.UDP!, 'u1', 1);
    expect(result.code).not.toBe(0);
    expect(result.errors).toMatch(/486/);
  });
});
