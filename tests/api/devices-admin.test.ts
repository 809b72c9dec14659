import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type Db } from '@carillon/db';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';
import { freeSipPort, runSipp } from '../../media-server/test/support/sipp.ts';

/**
 * Phones & devices administration through the product (issue 5, "Devices"): a desk
 * phone added by MAC gets SIP credentials that really register (SIPp REGISTER against
 * the product's SIP edge), a MAC is one phone only, unassigned phones are listed and
 * assigned, and a common-area phone sits on a limited extension of its own.
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let admin: HttpClient;
let other: HttpClient;
let sipTarget = '';
const me = { accountId: '', extensionId: '' };

interface Device {
  id: string;
  name: string;
  type: string;
  mac: string | null;
  extensionId: string | null;
  extensionNumber: string | null;
  userName: string | null;
}
interface Issued {
  id: string;
  extensionId?: string;
  sip: { username: string; password: string; domain: string };
}

const devices = async (query = '', client = admin): Promise<Device[]> => {
  const res = await client.get(`/api/devices${query ? `?${query}` : ''}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Device[];
};
const registers = async (sip: { username: string; password: string }) =>
  (await runSipp({ scenario: 'register.xml', target: sipTarget, localPort: await freeSipPort(), service: sip.username, auth: sip, timeoutSeconds: 10 })).code;

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'devices');
  product = await startProduct(scratch ? { DATABASE_URL: scratch.url } : {});
  db = openPostgres(product.databaseUrl(), 2);
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  Object.assign(me, (await (await admin.get('/api/me')).json()) as { accountId: string; extensionId: string });
  const created = await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example']);
  other = new HttpClient(product.url);
  expect((await activate(other, created.link)).status).toBe(303);
  // media-server may finish starting after the app: its log line says where SIP listens.
  let listening: RegExpExecArray | null = null;
  for (let i = 0; i < 300 && !listening; i++) {
    listening = /"msg":"SIP edge listening".*?"ports":\{[^}]*"UDP":(\d+)/.exec(product.output());
    if (!listening) await new Promise((r) => setTimeout(r, 100));
  }
  expect(listening, 'media-server did not log its SIP ports').not.toBeNull();
  sipTarget = `127.0.0.1:${listening![1]}`;
}, 120_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

describe('desk phone by MAC', () => {
  it('adds a desk phone by MAC and shows its SIP credentials once; they register with the SIP edge', async () => {
    const res = await admin.json('POST', '/api/devices', { extensionId: me.extensionId, type: 'desk_phone', name: 'Reception desk', mac: '00-04-f2-1a-2b-3c' });
    expect(res.status).toBe(201);
    const issued = (await res.json()) as Issued;
    expect(issued.sip.password.length).toBeGreaterThanOrEqual(20);
    const listed = (await devices()).find((d) => d.id === issued.id)!;
    expect(listed).toMatchObject({ name: 'Reception desk', type: 'desk_phone', mac: '0004F21A2B3C', extensionId: me.extensionId });
    // The password is nowhere to be read again: not in the list, not in the audit trail.
    expect(JSON.stringify(await devices())).not.toContain(issued.sip.password);
    const audit = await db.selectFrom('audit_events').select(['after']).where('action', '=', 'device.sip_credentials_issued').where('target_id', '=', issued.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(audit.after)).not.toContain(issued.sip.password);
    expect(audit.after).toMatchObject({ mac: '0004F21A2B3C', type: 'desk_phone' });

    expect(await registers(issued.sip)).toBe(0);
    expect(await registers({ username: issued.sip.username, password: 'wrong-password' })).not.toBe(0);
  });

  it('refuses a malformed MAC and a MAC already used, by field, and adds nothing', async () => {
    const count = (await devices()).length;
    for (const mac of ['00:04:f2:1a:2b', '00:04:f2:1a:2b:3g', '0004f21a2b3c00', 'hello']) {
      const res = await admin.json('POST', '/api/devices', { extensionId: me.extensionId, type: 'desk_phone', name: 'Bad', mac });
      expect(res.status, mac).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_body', fields: { mac: 'invalid_mac' } });
    }
    // The same phone written another way, in this account or in another one.
    for (const [client, mac] of [[admin, '0004.F21A.2B3C'], [other, '00:04:F2:1A:2B:3C']] as const) {
      const res = await client.json('POST', '/api/devices', { type: 'desk_phone', name: 'Twin', mac });
      expect(res.status).toBe(409);
      expect(await res.json()).toEqual({ error: 'duplicate_mac', fields: { mac: 'duplicate_mac' } });
    }
    expect(await devices()).toHaveLength(count);
    expect(await devices('', other)).toHaveLength(0);
  });

  it('searches by name, MAC, user and extension', async () => {
    const ext = (await devices()).find((d) => d.name === 'Reception desk')!.extensionNumber!;
    expect((await devices('q=recept')).map((d) => d.name)).toEqual(['Reception desk']);
    expect((await devices('q=1a:2b')).map((d) => d.name)).toEqual(['Reception desk']);
    expect((await devices('q=demo')).map((d) => d.name)).toContain('Reception desk');
    expect((await devices(`q=${ext}`)).map((d) => d.name)).toContain('Reception desk');
    expect(await devices('q=nothing-like-this')).toEqual([]);
    expect((await admin.get('/api/devices?view=bogus')).status).toBe(400);
  });
});

describe('unassigned phones', () => {
  it('lists a phone added without a user, which cannot register until it is assigned', async () => {
    const res = await admin.json('POST', '/api/devices', { type: 'desk_phone', name: 'Spare phone', mac: '00:04:f2:99:88:77' });
    expect(res.status).toBe(201);
    const issued = (await res.json()) as Issued;
    expect((await devices('view=unassigned')).map((d) => d.name)).toEqual(['Spare phone']);
    expect((await devices('view=user')).map((d) => d.name)).not.toContain('Spare phone');
    expect(await registers(issued.sip)).not.toBe(0);

    // Assigning to another account's extension is refused; then to the admin's.
    const foreignExt = ((await (await other.get('/api/me')).json()) as { extensionId: string }).extensionId;
    const bad = await admin.json('POST', `/api/devices/${issued.id}/assign`, { extensionId: foreignExt });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'invalid_body', fields: { extensionId: 'extension_not_found' } });
    const ok = await admin.json('POST', `/api/devices/${issued.id}/assign`, { extensionId: me.extensionId });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ extensionId: me.extensionId, userName: 'Demo Admin' });
    expect(await devices('view=unassigned')).toEqual([]);
    // The SIP edge remembers an unknown phone for a few seconds (negative cache): the phone's retry gets in.
    await expect.poll(() => registers(issued.sip), { timeout: 15_000, interval: 1_000 }).toBe(0);
    const audit = await db.selectFrom('audit_events').select(['after']).where('action', '=', 'device.assigned').where('target_id', '=', issued.id).execute();
    expect(audit).toHaveLength(1);
    // Another account's phone is not found, whatever the body.
    expect((await other.json('POST', `/api/devices/${issued.id}/assign`, { extensionId: foreignExt })).status).toBe(404);
  });
});

describe('common-area phones', () => {
  it('adds a common-area phone on a new limited extension; it registers, and a taken extension number is refused', async () => {
    const res = await admin.json('POST', '/api/devices/common-area', { name: 'Lobby phone', extensionNumber: '450', mac: '00:04:f2:45:00:01' });
    expect(res.status).toBe(201);
    const issued = (await res.json()) as Issued;
    const ext = await db.selectFrom('extensions').select(['type', 'number', 'name', 'account_id']).where('id', '=', issued.extensionId!).executeTakeFirstOrThrow();
    expect(ext).toEqual({ type: 'limited', number: '450', name: 'Lobby phone', account_id: me.accountId });
    expect(await devices('view=common_area')).toMatchObject([{ name: 'Lobby phone', type: 'common_area', extensionNumber: '450', userName: 'Lobby phone' }]);
    expect((await devices('view=user')).map((d) => d.name)).not.toContain('Lobby phone');
    expect(await registers(issued.sip)).toBe(0);

    // Extension 450 is taken now: refused, and neither an extension nor a phone is left behind.
    const before = (await devices()).length;
    const taken = await admin.json('POST', '/api/devices/common-area', { name: 'Meeting room', extensionNumber: '450' });
    expect(taken.status).toBe(409);
    expect(await taken.json()).toEqual({ error: 'extension_taken', fields: { extensionNumber: 'extension_taken' } });
    // A duplicate MAC rolls the new extension back.
    const twin = await admin.json('POST', '/api/devices/common-area', { name: 'Meeting room', extensionNumber: '451', mac: '00:04:f2:45:00:01' });
    expect(twin.status).toBe(409);
    expect(await db.selectFrom('extensions').select('id').where('account_id', '=', me.accountId).where('number', '=', '451').executeTakeFirst()).toBeUndefined();
    expect((await devices()).length).toBe(before);
    const bad = await admin.json('POST', '/api/devices/common-area', { name: '', extensionNumber: '4a' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'invalid_body', fields: { name: 'required', extensionNumber: 'invalid_extension' } });
  });
});

describe('Phones & devices page', () => {
  it('shows the views and search, and a duplicate MAC posted from the page says so next to the field', async () => {
    // Quick setup done: the portal opens instead of the setup wizard.
    await db.updateTable('accounts').set({ setup_completed_at: new Date() }).where('id', '=', me.accountId).execute();
    const unassigned = await admin.request('GET', '/admin/phone-system/devices?view=unassigned', undefined, { accept: 'text/html' });
    expect(unassigned.status).toBe(200);
    const html = await unassigned.text();
    expect(html).toContain('Common area phones');
    expect(html).toContain('Add a common area phone');
    const searched = await (await admin.request('GET', '/admin/phone-system/devices?q=lobby', undefined, { accept: 'text/html' })).text();
    expect(searched).toContain('Lobby phone');
    expect(searched).not.toContain('Reception desk');

    const count = (await devices()).length;
    const res = await admin.form('/admin/phone-system/devices?/add', { extensionId: me.extensionId, type: 'desk_phone', name: 'Twin', mac: '00:04:F2:1A:2B:3C' });
    expect(res.status).toBe(409);
    expect(await res.text()).toContain('A phone with this MAC address already exists.');
    expect(await devices()).toHaveLength(count);
  });
});
