import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaresip, type Baresip } from '../support/baresip.ts';
import { analyseWav } from '../support/wav.ts';
import { freeMediaPort, freeSipPort, runSipp } from '../support/sipp.ts';
import { startEdge, type EdgeHarness } from '../support/edge-harness.ts';

let h: EdgeHarness;
let baresip: Baresip;

beforeAll(async () => {
  h = await startEdge();
  await h.addPhone('101');
});
afterAll(async () => {
  await baresip?.stop();
  await h?.stop();
});

describe('baresip as a second softphone', () => {
  it('registers as an extension, is called by a SIPp phone, and hears its audio', async () => {
    const phone = await h.addPhone('104');
    baresip = await startBaresip({ edge: h.target, username: phone.username, password: phone.password, localPort: await freeSipPort() });
    // Registered: the binding is in Redis.
    const deadline = Date.now() + 10_000;
    while ((await h.edge.bindings.list(phone.extensionId)).length === 0) {
      if (Date.now() > deadline) throw new Error(`baresip did not register:\n${baresip.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const before = h.ended.length;
    const caller = h.phones.get('101')!;
    const uac = await runSipp({ scenario: 'uac-call.xml', target: h.target, localPort: await freeSipPort(), service: '104', auth: caller, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
    expect(uac.code, uac.errors + '\n--- baresip ---\n' + baresip.output().slice(-6000)).toBe(0);
    await h.waitForEnded(before + 1);
    const { call, result } = h.ended.at(-1)!;
    expect(result).toBe('answered');
    // baresip's microphone (a 1 kHz sine) reached the SIPp caller's leg…
    expect(call.lastStats.find((s) => s.legId === 'b')!.received.packets).toBeGreaterThan(50);
    expect(call.lastStats.find((s) => s.legId === 'a')!.sent.packets).toBeGreaterThan(50);
    // …and what SIPp played reached baresip: its recording holds seconds of real, non-silent audio.
    await baresip.stop();
    const recording = baresip.received();
    expect(recording, fs.readdirSync(baresip.dir).join(', ')).not.toBeNull();
    const heard = analyseWav(recording!, 1000);
    expect(heard.seconds).toBeGreaterThan(1.5);
    expect(heard.rms).toBeGreaterThan(200);
  });
});
