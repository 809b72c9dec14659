import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp, startSipp, type SippRun } from '../support/sipp.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';

/**
 * The PSTN side: SIPp plays the carrier on 127.0.0.2, the trunk's address,
 * for an outbound call (checking the E.164 number and caller ID it receives)
 * and for an inbound call to a DID.
 */
const CARRIER_IP = '127.0.0.2';
let h: EdgeHarness;
let caller: TestPhone;
let carrierPort: number;
const running: SippRun[] = [];

beforeAll(async () => {
  h = await startEdge();
  caller = await h.addPhone('101');
  carrierPort = await h.addCarrierTrunk(CARRIER_IP);
});
afterAll(() => h?.stop());
afterEach(() => {
  for (const r of running.splice(0)) r.stop();
});

const lastCall = () => h.lastCall();

describe('SIP trunk', () => {
  it('sends an outbound call to the carrier in E.164 with the main number as caller ID', async () => {
    const carrier = startSipp({ scenario: 'carrier-uas.xml', target: h.target, localIp: CARRIER_IP, localPort: carrierPort, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort(CARRIER_IP))] });
    await carrier.ready;
    running.push(carrier);
    const uac = await runSipp({ scenario: 'uac-call.xml', target: h.target, localPort: await freeSipPort(), service: '2125550199', auth: caller, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    const seen = await carrier.done;
    expect(seen.code, seen.errors).toBe(0);
    expect(seen.logs).toContain(`RURI=sip:+12125550199@${CARRIER_IP}:${carrierPort}|`);
    expect(seen.logs).toMatch(new RegExp(`FROM=.*<sip:\\${h.mainNumber}@`));
    expect(seen.logs).toContain(`PAI= <sip:${h.mainNumber}@`);
    expect(await lastCall()).toMatchObject({ direction: 'outbound', to_number: '+12125550199', result: 'answered', emergency: false });
  });

  it('always lets an emergency call through, flagged, even for a user allowed emergency calls only', async () => {
    await h.db.updateTable('users').set({ outbound_calling: 'emergency_only' }).where('extension_id', '=', caller.extensionId).execute();
    h.configChanged('users');
    try {
      const refused = await runSipp({ scenario: 'uac-forbidden.xml', target: h.target, localPort: await freeSipPort(), service: '2125550199', auth: caller, extra: ['-mp', String(await freeMediaPort())] });
      expect(refused.code, refused.errors || refused.output.slice(-1500)).toBe(0);
      expect((await lastCall()).result).toBe('forbidden');

      const carrier = startSipp({ scenario: 'carrier-uas.xml', target: h.target, localIp: CARRIER_IP, localPort: carrierPort, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort(CARRIER_IP))] });
      await carrier.ready;
      running.push(carrier);
      const uac = await runSipp({ scenario: 'uac-call.xml', target: h.target, localPort: await freeSipPort(), service: '911', auth: caller, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
      expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
      const seen = await carrier.done;
      expect(seen.logs).toContain(`RURI=sip:911@${CARRIER_IP}`);
      expect(seen.logs).toContain('PRIORITY= emergency');
      expect(await lastCall()).toMatchObject({ emergency: true, result: 'answered' });
    } finally {
      await h.db.updateTable('users').set({ outbound_calling: null }).where('extension_id', '=', caller.extensionId).execute();
      h.configChanged('users');
    }
  });

  it('delivers an inbound call to the extension of its DID', async () => {
    const callee = await h.addPhone('102');
    const did = h.mainNumber.slice(0, -4) + '0177';
    await h.db.insertInto('phone_numbers').values({ account_id: h.accountId, e164: did, type: 'direct', extension_id: callee.extensionId }).execute();
    h.configChanged('numbers');
    const uas = await startRegisteredSipp({ target: h.target, credentials: callee, scenario: 'uas-answer.xml' });
    running.push(uas);
    const inbound = await runSipp({ scenario: 'carrier-uac.xml', target: h.target, localIp: CARRIER_IP, localPort: await freeSipPort(CARRIER_IP), service: did, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort(CARRIER_IP))] });
    expect(inbound.code, inbound.errors || inbound.output.slice(-1500)).toBe(0);
    expect((await uas.done).code).toBe(0);
    expect(await lastCall()).toMatchObject({ direction: 'inbound', from_number: '+12125550123', to_number: did, callee_extension_id: callee.extensionId, result: 'answered' });
  });

  it('answers 404 to a number of no account', async () => {
    const r = await runSipp({ scenario: 'carrier-uac.xml', target: h.target, localIp: CARRIER_IP, localPort: await freeSipPort(CARRIER_IP), service: '+14155550000', timeoutSeconds: 10, extra: ['-mp', String(await freeMediaPort(CARRIER_IP))] });
    // The scenario expects a 200, so SIPp fails: the call was refused.
    expect(r.code).not.toBe(0);
    expect(r.errors + r.output).toMatch(/404/);
  });
});
