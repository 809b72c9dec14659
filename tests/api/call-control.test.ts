import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type Db } from '@carillon/db';
import { mediaServerSipTarget, startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';
import { createStandardUsers } from '../support/softphone-users.ts';
import { freeMediaPort, freeSipPort, runSipp, startRegisteredSipp, startSipp, type SippRun } from '../../media-server/test/support/sipp.ts';

/**
 * The control channel from the app to live calls (issue 19, deliverable 6), end to end:
 * two SIPp phones in a call through the product's media-server, hung up through
 * POST /api/calls/[id]/commands; each phone must receive a BYE (and answers it 200).
 * And account configuration cached by media-server is invalidated by an event when
 * the app changes it (deliverable 7): the very next call or REGISTER sees the change.
 */
const PASSWORD = 'Meadow5Lantern!';
const CARRIER_IP = '127.0.0.2';
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let admin: HttpClient;
let other: HttpClient;
let lea: HttpClient;
let sipTarget = '';
const me = { accountId: '', extensionId: '' };
let samExtensionId = '';
let caller: { id: string; username: string; password: string };
let callee: { id: string; username: string; password: string };
const running: SippRun[] = [];

async function addDesk(extensionId: string, name: string): Promise<{ id: string; username: string; password: string }> {
  const res = await admin.json('POST', '/api/devices', { extensionId, type: 'desk_phone', name });
  expect(res.status).toBe(201);
  const issued = (await res.json()) as { id: string; sip: { username: string; password: string } };
  return { id: issued.id, username: issued.sip.username, password: issued.sip.password };
}

/** The call the caller's INVITE started, once it is answered (the control channel hangs up answered calls with BYEs). */
async function answeredLiveCall(): Promise<string> {
  let id: string | undefined;
  await expect
    .poll(
      async () => {
        const row = await db.selectFrom('calls').select('id').where('account_id', '=', me.accountId).where('answered_at', 'is not', null).where('ended_at', 'is', null).executeTakeFirst();
        id = row?.id;
        return Boolean(id);
      },
      { timeout: 20_000, interval: 50 },
    )
    .toBe(true);
  return id!;
}

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'callcontrol');
  product = await startProduct(scratch ? { DATABASE_URL: scratch.url } : {});
  db = openPostgres(product.databaseUrl(), 2);
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  Object.assign(me, (await (await admin.get('/api/me')).json()) as { accountId: string; extensionId: string });
  const created = await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example']);
  other = new HttpClient(product.url);
  expect((await activate(other, created.link)).status).toBe(303);
  await createStandardUsers(db, [
    { extension: '102', name: 'sam', password: PASSWORD },
    { extension: '103', name: 'lea', password: PASSWORD },
  ]);
  lea = new HttpClient(product.url);
  expect((await lea.form('/login', { identifier: 'lea@demo.carillon.localhost', password: PASSWORD })).status).toBe(303);
  samExtensionId = (await db.selectFrom('users').select('extension_id').where('email', '=', 'sam@demo.carillon.localhost').executeTakeFirstOrThrow()).extension_id!;
  caller = await addDesk(me.extensionId, 'Admin desk');
  callee = await addDesk(samExtensionId, 'Sam desk');
  sipTarget = await mediaServerSipTarget(product);
}, 180_000);

afterEach(() => {
  for (const r of running.splice(0)) r.stop();
});

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

describe('hanging up a live call through the control channel', () => {
  it('hangs up an answered call from the API: both SIP legs receive a BYE; no one else may, and an ended call is said to be ended', async () => {
    const phone = await startRegisteredSipp({ target: sipTarget, credentials: callee, scenario: 'uas-answer.xml' });
    running.push(phone);
    // The caller plays audio until it receives a BYE: it never hangs up by itself.
    const call = startSipp({ scenario: 'uac-wait-bye.xml', target: sipTarget, localPort: await freeSipPort(), service: '102', auth: caller, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
    running.push(call);
    const id = await answeredLiveCall();

    // Another account's admin does not see the call at all; a user of the account who is not on it may not touch it.
    expect((await other.json('POST', `/api/calls/${id}/commands`, { type: 'hangup' })).status).toBe(404);
    const refused = await lea.json('POST', `/api/calls/${id}/commands`, { type: 'hangup' });
    expect(refused.status).toBe(403);
    // A command the contract does not know is refused with the field at fault, before anything is sent.
    for (const body of [{ type: 'explode' }, { type: 'hangup', force: true }, {}]) {
      const bad = await admin.json('POST', `/api/calls/${id}/commands`, body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toBe('invalid_body');
    }
    expect((await admin.request('POST', `/api/calls/${id}/commands`, 'not json')).status).toBe(400);

    const res = await admin.json('POST', `/api/calls/${id}/commands`, { type: 'hangup' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ outcome: 'done' });
    // Each scenario ends only after it received a BYE and answered it 200.
    const [callerSide, calleeSide] = await Promise.all([call.done, phone.done]);
    expect(callerSide.code, callerSide.errors || callerSide.output.slice(-1500)).toBe(0);
    expect(calleeSide.code, calleeSide.errors || calleeSide.output.slice(-1500)).toBe(0);

    await expect.poll(async () => (await db.selectFrom('calls').select(['result', 'hangup_by']).where('id', '=', id).executeTakeFirstOrThrow()).hangup_by, { timeout: 10_000, interval: 50 }).toBe('control');
    expect((await db.selectFrom('calls').select('result').where('id', '=', id).executeTakeFirstOrThrow()).result).toBe('answered');
    const audit = await db.selectFrom('audit_events').select(['action', 'after', 'actor_user_id']).where('target_id', '=', id).execute();
    expect(audit).toMatchObject([{ action: 'call.hangup', after: { type: 'hangup', outcome: 'done' } }]);

    // The call is over: a second hang-up says so, clearly.
    const again = await admin.json('POST', `/api/calls/${id}/commands`, { type: 'hangup' });
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({ error: 'call_ended' });
    expect((await admin.json('POST', `/api/calls/00000000-0000-4000-8000-000000000000/commands`, { type: 'hangup' })).status).toBe(404);
  }, 90_000);
});

describe('configuration changes reach media-server at once', () => {
  it('routes an inbound call from a carrier added and to a number assigned just before, with no wait', async () => {
    const carrierPort = await freeSipPort(CARRIER_IP);
    const did = '+12125550188';
    // A carrier INVITE before the trunk exists: the edge reads (and caches) the carriers' addresses, and challenges it.
    const unknown = await runSipp({ scenario: 'carrier-uac.xml', target: sipTarget, localIp: CARRIER_IP, localPort: carrierPort, service: did, timeoutSeconds: 10, extra: ['-mp', String(await freeMediaPort(CARRIER_IP))] });
    expect(unknown.code).not.toBe(0);

    const phone = await startRegisteredSipp({ target: sipTarget, credentials: callee, scenario: 'uas-answer.xml' });
    running.push(phone);
    const trunk = await admin.json('PUT', '/api/trunk', { name: 'Carrier', host: CARRIER_IP, port: carrierPort, transport: 'udp', username: '', numberFormat: 'e164', inboundAddresses: [CARRIER_IP] });
    expect(trunk.status, await trunk.clone().text()).toBe(200);
    const number = await admin.json('POST', '/api/numbers', { e164: did, extensionId: samExtensionId });
    expect(number.status).toBe(201);

    // At once: the same carrier's very next call reaches Sam's phone through the new number.
    const inbound = await runSipp({ scenario: 'carrier-uac.xml', target: sipTarget, localIp: CARRIER_IP, localPort: carrierPort, service: did, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort(CARRIER_IP))] });
    expect(inbound.code, inbound.errors || inbound.output.slice(-1500)).toBe(0);
    expect((await phone.done).code).toBe(0);
    await expect
      .poll(async () => (await db.selectFrom('calls').select(['to_number', 'callee_extension_id', 'result']).where('account_id', '=', me.accountId).where('direction', '=', 'inbound').executeTakeFirst()) ?? null, { timeout: 10_000, interval: 50 })
      .toMatchObject({ to_number: did, callee_extension_id: samExtensionId, result: 'answered' });
  }, 90_000);

  it('refuses the very next call to an extension whose user just turned Do Not Disturb on, and puts the next one through once it is off', async () => {
    const sam = new HttpClient(product.url);
    expect((await sam.form('/login', { identifier: 'sam@demo.carillon.localhost', password: PASSWORD })).status).toBe(303);
    // The account's routing configuration is in media-server's cache by now (the calls above): only the announcement can change it.
    expect((await sam.json('PUT', '/api/me/dnd', { dnd: 'no_calls' })).status).toBe(200);
    const refused = await runSipp({ scenario: 'uac-unavailable-reason.xml', target: sipTarget, localPort: await freeSipPort(), service: '102', auth: caller, timeoutSeconds: 20, extra: ['-mp', String(await freeMediaPort())] });
    expect(refused.code, refused.errors || refused.output.slice(-1500)).toBe(0);
    expect(refused.logs).toContain('REASON=Do Not Disturb|');

    expect((await sam.json('PUT', '/api/me/dnd', { dnd: 'take_all_calls' })).status).toBe(200);
    const phone = await startRegisteredSipp({ target: sipTarget, credentials: callee, scenario: 'uas-answer.xml' });
    running.push(phone);
    const answered = await runSipp({ scenario: 'uac-call.xml', target: sipTarget, localPort: await freeSipPort(), service: '102', auth: caller, timeoutSeconds: 30, extra: ['-mp', String(await freeMediaPort())] });
    expect(answered.code, answered.errors || answered.output.slice(-1500)).toBe(0);
    expect((await phone.done).code).toBe(0);
  }, 90_000);

  it('takes a device’s new SIP password on the very next REGISTER, and refuses the old one', async () => {
    const port = await freeSipPort();
    const register = async (credentials: { username: string; password: string }) =>
      (await runSipp({ scenario: 'register.xml', target: sipTarget, localPort: port, service: credentials.username, auth: credentials, timeoutSeconds: 10 })).code;
    // From one port, so the same registrar thread answers each time (it cached the old password).
    expect(await register(caller)).toBe(0);
    const res = await admin.json('POST', `/api/devices/${caller.id}/credentials`, {});
    expect(res.status).toBe(200);
    const fresh = ((await res.json()) as { sip: { username: string; password: string } }).sip;
    expect(await register(fresh)).toBe(0);
    expect(await register(caller)).not.toBe(0);
    caller = { ...caller, password: fresh.password };
  }, 60_000);
});
