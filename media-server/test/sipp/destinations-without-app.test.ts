import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExtensionType } from '@carillon/db';
import { liveCounts } from '../../src/health.ts';
import { startEdge, type EdgeHarness, type TestPhone } from '../support/edge-harness.ts';
import { freeMediaPort, freeSipPort, runSipp } from '../support/sipp.ts';

/**
 * Destinations of the dial plan whose application does not exist yet
 * (auto-receptionist, queue, park, pickup, paging; message-only and
 * announcement-only extensions have theirs, application-calls.test.ts):
 * a SIPp caller gets 480 with a reason phrase that names the feature, never a
 * 500 or a ringing that leads nowhere; each call has its record, and nothing
 * of it stays live.
 */
let h: EdgeHarness;
let caller: TestPhone;

beforeAll(async () => {
  h = await startEdge();
  caller = await h.addPhone('101');
  await h.addPhone('102');
  const site = await h.db.selectFrom('sites').select('id').where('account_id', '=', h.accountId).where('is_main', '=', true).executeTakeFirstOrThrow();
  const special: [string, ExtensionType][] = [
    ['303', 'call_queue'],
    ['304', 'ivr_menu'],
    ['305', 'park_location'],
    ['306', 'paging'],
  ];
  await h.db
    .insertInto('extensions')
    .values(special.map(([number, type]) => ({ account_id: h.accountId, site_id: site.id, number, type, status: 'activated' as const })))
    .execute();
  // What the app announces after it writes extensions: the edge drops its copy of the account's configuration.
  h.configChanged('extensions');
});
afterAll(() => h?.stop());

describe('destinations that have no application yet', () => {
  const cases: [string, () => string, string][] = [
    ['a call queue', () => '303', 'Call Queue Not Available'],
    ['an IVR menu', () => '304', 'Auto-Receptionist Not Available'],
    ['the company number, once the account has an IVR menu', () => h.mainNumber, 'Auto-Receptionist Not Available'],
    ['a park location', () => '305', 'Call Park Not Available'],
    ['a paging group, dialled with *84', () => '*84306', 'Paging Not Available'],
    ['directed call pickup, *58 + an extension', () => '*58102', 'Call Pickup Not Available'],
  ];

  it.each(cases)('refuses a call to %s with 480 and the reason, writes its record, and leaves nothing live', async (_what, dialed, reason) => {
    const before = await h.db.selectFrom('calls').select('id').where('account_id', '=', h.accountId).execute();
    const uac = await runSipp({
      scenario: 'uac-unavailable-reason.xml',
      target: h.target,
      localPort: await freeSipPort(),
      service: dialed(),
      auth: caller,
      timeoutSeconds: 20,
      extra: ['-mp', String(await freeMediaPort())],
    });
    expect(uac.code, uac.errors || uac.output.slice(-1500)).toBe(0);
    expect(uac.logs).toContain(`REASON=${reason}|`);
    const record = await h.lastCall();
    expect(before.map((r) => r.id)).not.toContain(record.id);
    expect(record).toMatchObject({ to_number: dialed(), result: 'unavailable', answered_at: null });
    // The call ended at the 480: no call, leg, endpoint or bridge of it is left.
    expect(h.edge.calls.activeCalls).toBe(0);
    expect(Object.values(liveCounts(h.edge.calls, h.media)).every((n) => n === 0), JSON.stringify(liveCounts(h.edge.calls, h.media))).toBe(true);
  });

  it('still refuses a paging group dialled with *84 when the extension is not one, with 404', async () => {
    const uac = await runSipp({ scenario: 'uac-unavailable-reason.xml', target: h.target, localPort: await freeSipPort(), service: '*84102', auth: caller, timeoutSeconds: 10, extra: ['-mp', String(await freeMediaPort())] });
    // The scenario expects 480: a 404 fails it, which is what must happen here.
    expect(uac.code).not.toBe(0);
    expect((await h.lastCall())).toMatchObject({ to_number: '*84102', result: 'not_found' });
  });
});
