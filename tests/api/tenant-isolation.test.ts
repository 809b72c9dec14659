import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as connectSocket } from 'socket.io-client';
import { hashSecret } from '@carillon/core';
import { openPostgres, type Db } from '@carillon/db';
import { ROUTE_ACCESS } from '../../app/src/lib/access-policy.ts';
import { UNRELEASED_AREAS } from '../../app/src/lib/unreleased-features.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient, STRONG } from '../support/http-client.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';
import { createStandardUsers } from '../support/softphone-users.ts';

const routesDir = path.resolve(import.meta.dirname, '../../app/src/routes');

/** Route ids of every page and endpoint in the app, read from the files themselves. */
function routeFiles(): { id: string; file: string }[] {
  const found: { id: string; file: string }[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/^\+(page|server|page\.server)\.(ts|svelte)$/.test(entry.name)) {
        const rel = path.relative(routesDir, dir).split(path.sep).join('/');
        found.push({ id: '/' + rel, file: full });
      }
    }
  };
  walk(routesDir);
  return found.map((r) => ({ ...r, id: r.id === '/' ? '/' : r.id.replace(/\/$/, '') }));
}

let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
const a = { client: null as unknown as HttpClient };
const b = { client: null as unknown as HttpClient, ids: {} as Record<string, string> };

beforeAll(async () => {
  // On the machine's Postgres when there is one: the product runs the same on both engines.
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'e2e');
  // Every unreleased area shown, so that their routes answer 404 for being another account's, not for being hidden.
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), ENABLE_UNRELEASED: UNRELEASED_AREAS.join(',') });
  db = openPostgres(product.databaseUrl(), 2);

  a.client = new HttpClient(product.url);
  expect((await activate(a.client, product.activationLink)).status).toBe(303);
  const created = await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example', '--country', 'FR', '--language', 'fr']);
  b.client = new HttpClient(product.url);
  expect((await activate(b.client, created.link)).status).toBe(303);

  const me = (await (await b.client.get('/api/me')).json()) as { id: string; extensionId: string; siteId: string; accountId: string };
  const device = (await (await b.client.json('POST', '/api/devices', { extensionId: me.extensionId, type: 'desk_phone', name: 'Reception', mac: '00:04:f2:aa:bb:cc' })).json()) as { id: string };
  // A call record of B, as the media-server writes it.
  const bCall = await db
    .insertInto('calls')
    .values({ account_id: me.accountId, sip_call_id: 'b-call@test', direction: 'internal', from_number: '101', to_number: '102', result: 'answered' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const bExport = await db
    .insertInto('recording_exports')
    .values({ account_id: me.accountId, requested_by: me.id, filters: JSON.stringify({ extensionId: null }) })
    .returning('id')
    .executeTakeFirstOrThrow();
  // A transcription of B, whose job is B's (it fails in the worker: a WAV header over nothing).
  const upload = new FormData();
  upload.set('file', new Blob([new Uint8Array(Buffer.concat([Buffer.from('RIFF\x24\x00\x00\x00WAVE', 'latin1'), Buffer.alloc(100)]))]), 'b.wav');
  const bTranscription = (await (await b.client.request('POST', '/api/transcriptions', upload)).json()) as { id: string };
  const bContact = (await (await b.client.json('POST', '/api/me/contacts', { firstName: 'Beta', phone: '+33 1 23 45 67 89' })).json()) as { id: string };
  // A sent fax of B (rendered, one page) and a fax received by B's extension.
  const bFax = await db
    .insertInto('faxes')
    .values({ account_id: me.accountId, sender_user_id: me.id, attachments: JSON.stringify([]), page_count: 1, rendered_path: '/nonexistent/fax.tif' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const bFaxMessage = await db
    .insertInto('fax_messages')
    .values({ account_id: me.accountId, extension_id: me.extensionId, to_number: '+33123456789', page_count: 1, pdf_path: '/nonexistent/fax.pdf' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const bRoles = (await (await b.client.get('/api/roles')).json()) as { items: { id: string; key: string | null }[] };
  const bRole = (await (await b.client.json('POST', '/api/roles', { baseRoleId: bRoles.items.find((r) => r.key === 'standard')!.id, name: 'Beta role' })).json()) as { id: string };
  const bGroup = (await (await b.client.json('POST', '/api/user-groups', { name: 'Beta group', memberIds: [me.id] })).json()) as { id: string };
  // A bulk edit of B's, as an upload stores it (B has one user: too few to upload one itself).
  const bBulkEdit = await db
    .insertInto('user_bulk_edits')
    .values({ account_id: me.accountId, uploaded_by: me.id, file_name: 'b.csv', format: 'csv', header: JSON.stringify(['User ID']), rows: JSON.stringify([['User ID'], [me.id]]), report: JSON.stringify({ issues: [], changes: [], rowCount: 1 }), status: 'ready', expires_at: new Date(Date.now() + 3_600_000) })
    .returning('id')
    .executeTakeFirstOrThrow();
  const bNumber = await db.insertInto('phone_numbers').values({ account_id: me.accountId, e164: '+33199001234', type: 'direct', nickname: 'Beta line' }).returning('id').executeTakeFirstOrThrow();
  const bTemplate = (await (await b.client.json('POST', '/api/templates', { kind: 'user_settings', name: 'Beta template', settings: {} })).json()) as { id: string };
  const bApplication = (await (await b.client.json('POST', `/api/templates/${bTemplate.id}/apply`, { userIds: [me.id] })).json()) as { applicationId: string };
  const standardRole = await db.selectFrom('roles').select('id').where('key', '=', 'standard').executeTakeFirstOrThrow();
  const bToken = (await (await b.client.json('POST', '/api/api-tokens', { name: 'Beta integration', roleId: standardRole.id })).json()) as { id: string };
  // An IVR menu and a prompt of B (issue 14).
  const bMenu = (await (await b.client.json('POST', '/api/ivr/menus', { number: '1001', name: 'Beta IVR', language: 'fr' })).json()) as { menu: { id: string } };
  const bPrompt = (await (await b.client.json('POST', '/api/ivr/prompts', { name: 'Beta prompt', text: 'Bonjour.', language: 'fr' })).json()) as { id: string };
  // A text conversation of B (issue 18), on a number of B's extension.
  const bSmsNumber = '+33199005678';
  await db.insertInto('phone_numbers').values({ account_id: me.accountId, e164: bSmsNumber, type: 'direct', extension_id: me.extensionId }).execute();
  const bConversation = await db.insertInto('sms_conversations').values({ account_id: me.accountId, business_number: bSmsNumber, participants: ['+33611223344'] }).returning('id').executeTakeFirstOrThrow();
  // A voicemail message of B (issue 13), as media-server leaves it.
  const bVoicemail = await db
    .insertInto('voicemail_messages')
    .values({ account_id: me.accountId, mailbox_extension_id: me.extensionId, to_number: '+33123456789', reason: 'no_answer', audio_path: 'voicemail/nonexistent.wav', duration_ms: 1000, size_bytes: 8044 })
    .returning('id')
    .executeTakeFirstOrThrow();
  // A high-volume registration and a campaign of B (issue 18, deliverable 2).
  const bRegistration = await db
    .insertInto('sms_number_registrations')
    .values({ account_id: me.accountId, phone_number: bSmsNumber, business_name: 'Beta', use_case: 'reminders', sample_message: 'Bonjour', expected_daily_volume: 10 })
    .returning('id')
    .executeTakeFirstOrThrow();
  const bCampaign = await db
    .insertInto('sms_campaigns')
    .values({ account_id: me.accountId, name: 'Beta campaign', from_number: bSmsNumber, template: 'Bonjour', start_at: new Date('2099-01-01'), next_run_at: new Date('2099-01-01'), total_rows: 0, row_errors: '[]' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const bQueue = (await (await b.client.json('POST', '/api/call-queues', { number: '6001', name: 'Beta queue' })).json()) as { queue: { extensionId: string } };
  const bPaging = (await (await b.client.json('POST', '/api/paging-groups', { number: '6002', name: 'Beta paging' })).json()) as { group: { id: string } };
  const bSharedLine = (await (await b.client.json('POST', '/api/shared-lines', { number: '6004', name: 'Beta shared line' })).json()) as { line: { id: string } };
  const bPark = (await (await b.client.json('POST', '/api/park-locations', { number: '6003', name: 'Beta park', memberExtensionIds: [me.extensionId] })).json()) as { location: { id: string } };
  const bPickup = (await (await b.client.json('POST', '/api/pickup-groups', { name: 'Beta pickup', memberExtensionIds: [me.extensionId] })).json()) as { group: { id: string } };
  const bMonitoring = (await (await b.client.json('POST', '/api/monitoring-groups', { name: 'Beta coaching', monitorExtensionIds: [me.extensionId] })).json()) as { group: { id: string } };
  // A custom answering rule of B's user: its greeting route (`greetings/[rule]`) answers 404 to A.
  const bRules = ((await (await b.client.get('/api/me/answering-rules')).json()) as { answering: { inHours: object; custom: object[] } }).answering;
  const bRulesSaved = await b.client.json('PUT', '/api/me/answering-rules', { ...bRules, custom: [{ ...bRules.inHours, name: 'Beta VIP', enabled: true, conditions: [{ type: 'caller_id', numbers: ['+14155550123'], contactIds: [] }] }] });
  expect(bRulesSaved.status, await bRulesSaved.clone().text()).toBe(200);
  const bRule = ((await bRulesSaved.json()) as { answering: { custom: { id: string }[] } }).answering.custom[0]!;
  // A custom answering rule of B's company (issue 14, RULE-01): to B's own extension.
  const bExtension = ((await (await b.client.get('/api/me')).json()) as { extension: string }).extension;
  const bCompanyRuleSaved = await b.client.json('POST', '/api/ivr/custom-rules', { name: 'Beta holiday', conditions: [{ type: 'date_range', ranges: [{ from: '2026-12-25T00:00', to: '2026-12-26T00:00' }] }], target: { type: 'extension', extension: bExtension } });
  expect(bCompanyRuleSaved.status, await bCompanyRuleSaved.clone().text()).toBe(201);
  const bCompanyRule = ((await bCompanyRuleSaved.json()) as { rule: { id: string } }).rule;
  // B's user's recorded name (issues 13 and 14): A's PUT and DELETE on B's user must leave it.
  await db.insertInto('user_name_recordings').values({ user_id: me.id, account_id: me.accountId, file: `names/${me.accountId}/beta.wav`, duration_ms: 900, source: 'browser', created_by: me.id }).execute();
  // A meeting of B (issue 17), named by its 10-digit ID, which both `/api/me/meetings/[id]` and `/api/meetings/[number]/join` take.
  const bMeetingMade = await b.client.json('POST', '/api/me/meetings', { topic: 'Beta meeting' });
  expect(bMeetingMade.status, await bMeetingMade.clone().text()).toBe(201);
  const bMeeting = ((await bMeetingMade.json()) as { meeting: { number: string } }).meeting;
  b.ids = { meetings: bMeeting.number, 'custom-rules': bCompanyRule.id, greetings: bRule.id, 'call-queues': bQueue.queue.extensionId, 'monitoring-groups': bMonitoring.group.id, 'managed-call-queues': bQueue.queue.extensionId, 'paging-groups': bPaging.group.id, 'park-locations': bPark.location.id, 'pickup-groups': bPickup.group.id, 'shared-lines': bSharedLine.line.id, registrations: bRegistration.id, campaigns: bCampaign.id, messages: bVoicemail.id, conversations: bConversation.id, menus: bMenu.menu.id, prompts: bPrompt.id, 'api-tokens': bToken.id, templates: bTemplate.id, 'template-applications': bApplication.applicationId, numbers: bNumber.id, 'bulk-edit': bBulkEdit.id, roles: bRole.id, 'user-groups': bGroup.id, members: me.id, faxes: bFax.id, preview: '1', 'fax-messages': bFaxMessage.id, contacts: bContact.id, users: me.id, extensions: me.extensionId, sites: me.siteId, devices: device.id, calls: bCall.id, transcriptions: bTranscription.id, queues: 'transcription', jobs: bTranscription.id, 'recordings-export': bExport.id };
}, 120_000);

afterAll(async () => {
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

describe('access policy', () => {
  it('lists every route of the app (a route without an entry is refused)', () => {
    const missing = routeFiles().map((r) => r.id).filter((id) => !(id in ROUTE_ACCESS));
    expect(missing).toEqual([]);
  });
});

describe('tenant isolation', () => {
  it("answers 404 on every API route asked with another account's ids", async () => {
    const apiRoutes = routeFiles().filter((r) => r.id.startsWith('/api/') && r.file.endsWith('+server.ts'));
    const withIds = apiRoutes.filter((r) => r.id.includes('['));
    expect(withIds.length).toBeGreaterThan(0);
    const walked: string[] = [];
    for (const route of withIds) {
      const methods = [...fs.readFileSync(route.file, 'utf8').matchAll(/export const (GET|POST|PATCH|PUT|DELETE)\b/g)].map((m) => m[1]!);
      const url = route.id.replace(/\/([a-z-]+)\/\[(\w+)\]/g, (_, collection: string) => {
        const id = b.ids[collection];
        if (!id) throw new Error(`no foreign id for [${collection}] in ${route.id}: add one to this test`);
        return `/${collection}/${id}`;
      });
      for (const method of methods) {
        const res = await a.client.json(method, url, method === 'GET' ? undefined : { firstName: 'Mallory' });
        expect(res.status, `${method} ${url}`).toBe(404);
        walked.push(`${method} ${route.id}`);
      }
    }
    expect(walked).toContain('PATCH /api/users/[id]');
    expect(walked).toContain('DELETE /api/extensions/[id]');
    expect(walked).toContain('POST /api/extensions/[id]/assign');
    expect(walked).toContain('POST /api/devices/[id]/credentials');
    expect(walked).toContain('DELETE /api/devices/[id]');
    expect(walked).toContain('POST /api/devices/[id]/assign');
    expect(walked).toContain('GET /api/numbers/[id]');
    expect(walked).toContain('PATCH /api/numbers/[id]');
    expect(walked).toContain('GET /api/calls/[id]');
    expect(walked).toContain('GET /api/me/sms/conversations/[id]');
    expect(walked).toContain('POST /api/me/sms/conversations/[id]/read');
    expect(walked).toContain('DELETE /api/me/sms/conversations/[id]');
    expect(walked).toContain('PATCH /api/me/voicemail/messages/[id]');
    expect(walked).toContain('DELETE /api/me/voicemail/messages/[id]');
    expect(walked).toContain('POST /api/me/voicemail/messages/[id]/restore');
    expect(walked).toContain('GET /api/me/voicemail/messages/[id]/audio');
    expect(walked).toContain('POST /api/sms/registrations/[id]/review');
    expect(walked).toContain('GET /api/sms/campaigns/[id]');
    expect(walked).toContain('PATCH /api/sms/campaigns/[id]');
    expect(walked).toContain('GET /api/sms/campaigns/[id]/report');
    expect(walked).toContain('POST /api/calls/[id]/commands');
    expect(walked).toContain('GET /api/transcriptions/[id]');
    expect(walked).toContain('DELETE /api/me/contacts/[id]');
    expect(walked).toContain('POST /api/queues/[queue]/jobs/[id]/retry');
    expect(walked).toContain('GET /api/calls/recordings-export/[id]/download');
    expect(walked).toContain('GET /api/faxes/[id]/preview/[page]');
    expect(walked).toContain('GET /api/fax-messages/[id]/pdf');
    expect(walked).toContain('DELETE /api/roles/[id]');
    expect(walked).toContain('PATCH /api/user-groups/[id]');
    expect(walked).toContain('DELETE /api/user-groups/[id]/members/[userId]');
    expect(walked).toContain('GET /api/users/bulk-edit/[id]');
    expect(walked).toContain('POST /api/users/bulk-edit/[id]/confirm');
    expect(walked).toContain('PATCH /api/templates/[id]');
    expect(walked).toContain('PUT /api/call-queues/[id]');
    expect(walked).toContain('PUT /api/me/answering-rules/greetings/[rule]');
    expect(walked).toContain('DELETE /api/users/[id]/answering-rules/greetings/[rule]');
    expect(walked).toContain('PUT /api/users/[id]/name-recording');
    expect(walked).toContain('DELETE /api/users/[id]/name-recording');
    expect(await db.selectFrom('user_name_recordings').select(['source', 'duration_ms']).where('user_id', '=', b.ids.users!).execute()).toEqual([{ source: 'browser', duration_ms: 900 }]);
    expect(walked).toContain('PUT /api/ivr/custom-rules/[id]');
    expect(walked).toContain('DELETE /api/ivr/custom-rules/[id]');
    expect(walked).toContain('POST /api/ivr/custom-rules/[id]/move');
    const bCompanyRules = ((await (await b.client.get('/api/ivr/custom-rules')).json()) as { rules: { id: string; name: string }[] }).rules;
    expect(bCompanyRules.map((r) => [r.id, r.name])).toEqual([[b.ids['custom-rules'], 'Beta holiday']]);
    expect(((await (await a.client.get('/api/ivr/custom-rules')).json()) as { rules: unknown[] }).rules).toEqual([]);
    expect(walked).toContain('PUT /api/monitoring-groups/[id]');
    expect(walked).toContain('DELETE /api/monitoring-groups/[id]');
    expect(((await (await b.client.get(`/api/monitoring-groups/${b.ids['monitoring-groups']}`)).json()) as { group: { name: string } }).group.name).toBe('Beta coaching');
    expect(walked).toContain('DELETE /api/templates/[id]');
    expect(walked).toContain('POST /api/templates/[id]/apply');
    expect(walked).toContain('GET /api/template-applications/[id]');
    expect(walked).toContain('POST /api/users/[id]/reset-assign');
    expect((await b.client.get(`/api/templates/${b.ids.templates}`)).status).toBe(200);
    expect(walked).toContain('DELETE /api/api-tokens/[id]');
    const bTokens = (await (await b.client.get('/api/api-tokens')).json()) as { id: string; status: string }[];
    expect(bTokens.find((t) => t.id === b.ids['api-tokens'])?.status).toBe('active');
    expect(await db.selectFrom('voicemail_messages').select(['status', 'deleted_at']).where('id', '=', b.ids.messages!).executeTakeFirstOrThrow()).toEqual({ status: 'new', deleted_at: null });
    // And nothing of B changed.
    const bMe = (await (await b.client.get('/api/me')).json()) as { firstName: string };
    expect(bMe.firstName).not.toBe('Mallory');
    expect(((await (await b.client.get(`/api/numbers/${b.ids.numbers}`)).json()) as { nickname: string }).nickname).toBe('Beta line');
  });

  it('lists only the caller account in collection routes', async () => {
    const users = ((await (await a.client.get('/api/users')).json()) as { items: { id: string }[] }).items;
    const sites = (await (await a.client.get('/api/sites')).json()) as { id: string }[];
    const audit = (await (await a.client.get('/api/audit-events')).json()) as { targetId: string }[];
    const calls = (await (await a.client.get('/api/calls')).json()) as { id: string }[];
    expect(calls.map((c) => c.id)).not.toContain(b.ids.calls);
    expect(((await (await b.client.get('/api/calls')).json()) as { id: string }[]).map((c) => c.id)).toContain(b.ids.calls);
    expect(users.length).toBeGreaterThan(0);
    expect(users.map((u) => u.id)).not.toContain(b.ids.users);
    expect(sites.map((s) => s.id)).not.toContain(b.ids.sites);
    expect(audit.map((e) => e.targetId)).not.toContain(b.ids.users);
    // A bulk action names B's user: not found, and B's user is untouched.
    const bulk = await a.client.json('POST', '/api/users/bulk', { action: 'disable', userIds: [b.ids.users] });
    expect(await bulk.json()).toEqual({ results: [{ userId: b.ids.users, result: 'refused', reason: 'not_found' }] });
    expect((await b.client.get('/api/me')).status).toBe(200);
    const invite = await a.client.json('POST', '/api/users/bulk', { action: 'send_invite', userIds: [b.ids.users] });
    expect(await invite.json()).toEqual({ results: [{ userId: b.ids.users, result: 'refused', reason: 'not_found' }] });
    // The Add Users wizard offers only A's sites, and a row naming B's site is refused on that row.
    const options = (await (await a.client.get('/api/users/batch')).json()) as { sites: { id: string }[] };
    expect(options.sites.map((s) => s.id)).not.toContain(b.ids.sites);
    const added = await a.client.json('POST', '/api/users/batch', { userType: 'free', onboarding: 'later', rows: [{ email: 'walker@a.example', firstName: 'Walker', siteId: b.ids.sites }] });
    expect(added.status).toBe(422);
    expect(((await added.json()) as { errors: unknown[] }).errors).toEqual([{ row: 1, field: 'siteId', reason: 'not_found' }]);
    const phone = await a.client.json('POST', '/api/users/batch', { userType: 'office', onboarding: 'later', rows: [{ email: 'walker@a.example', firstName: 'Walker', device: { kind: 'inventory', deviceId: b.ids.devices } }] });
    expect(((await phone.json()) as { errors: unknown[] }).errors).toEqual([{ row: 1, field: 'device.deviceId', reason: 'not_found' }]);
  });

  it('refuses a bad id or a bad body with a clear client error', async () => {
    expect((await a.client.get('/api/users/not-a-uuid')).status).toBe(404);
    const bad = await a.client.request('PATCH', '/api/account', '{not json');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'invalid_json' });
    const invalid = await a.client.json('PATCH', '/api/account', { companyName: '' });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { fields: Record<string, string> }).fields).toHaveProperty('companyName');
  });
});

describe('audit trail search and CSV', () => {
  it('finds a change by its code and by the affected element, within 180 days, and the CSV holds the same rows with role and IP', async () => {
    expect((await a.client.json('PATCH', '/api/account', { companyName: 'Alpha Audited' })).status).toBe(200);
    const [latest] = (await (await a.client.get('/api/audit-events?limit=1')).json()) as { id: string; action: string; targetType: string; targetId: string | null }[];
    expect(latest).toBeDefined();
    const search = async (query: string) => ((await (await a.client.get(`/api/audit-events?${query}`)).json()) as { id: string }[]).map((e) => e.id);
    expect(await search(`action=${encodeURIComponent(latest!.action)}`)).toContain(latest!.id);
    expect(await search(`target=${encodeURIComponent(latest!.targetType)}`)).toContain(latest!.id);
    if (latest!.targetId) expect(await search(`target=${latest!.targetId}`)).toContain(latest!.id);
    expect(await search('action=no.such.change')).toEqual([]);
    const since = new Date(Date.now() - 60_000).toISOString();
    expect(await search(`from=${since}&action=${encodeURIComponent(latest!.action)}`)).toContain(latest!.id);
    expect(await search(`to=${new Date(Date.now() - 86_400_000).toISOString()}&action=${encodeURIComponent(latest!.action)}`)).not.toContain(latest!.id);

    const csv = await a.client.get(`/api/audit-events/export?from=${since}&action=${encodeURIComponent(latest!.action)}`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe('Date/Time (UTC),Changed by,Role,Change,Change made to,Item affected,Before,After,Endpoint,IP address');
    const shown = await search(`from=${since}&action=${encodeURIComponent(latest!.action)}`);
    expect(lines).toHaveLength(shown.length + 1);
    expect(lines.some((l) => l.includes(latest!.action) && l.includes('Alpha Audited') && /,127\.0\.0\.1$|,::1$|,::ffff:127\.0\.0\.1$/.test(l))).toBe(true);

    // The look-back stops at 180 days; a bad range or parameter is a 400 that names it.
    const tooOld = await a.client.get(`/api/audit-events?from=${new Date(Date.now() - 200 * 86_400_000).toISOString()}`);
    expect(tooOld.status).toBe(400);
    expect(((await tooOld.json()) as { fields: Record<string, string> }).fields).toHaveProperty('from');
    expect((await a.client.get(`/api/audit-events/export?from=${since}&to=${new Date(Date.now() - 3_600_000).toISOString()}`)).status).toBe(400);
    expect((await a.client.get('/api/audit-events?colour=blue')).status).toBe(400);
    // Another account's trail is not searchable by its ids.
    expect(await search(`target=${b.ids.users}`)).toEqual([]);
  });
});

describe('sites and site codes (F000 12.9, 12.10)', () => {
  it('creates sites, refuses a taken code, a code that would clash with extensions, a code on the main site and a caller ID name over 15 characters, and audits changes', async () => {
    const me = (await (await a.client.get('/api/me')).json()) as { accountId: string; extension: string | null };
    const created = await a.client.json('POST', '/api/sites', { name: 'Lyon', callerIdName: 'Alpha Lyon' });
    expect(created.status).toBe(201);
    const lyon = (await created.json()) as { id: string; siteCode: string | null };
    expect(lyon.siteCode).toBeNull();
    const tooLongName = await a.client.json('POST', '/api/sites', { name: 'Nice', callerIdName: 'Sixteen chars!!!' });
    expect(tooLongName.status).toBe(400);
    expect(((await tooLongName.json()) as { fields: Record<string, string> }).fields).toHaveProperty('callerIdName');

    // Extensions of Lyon: "01" would be dialled 101 with code 1, as the main site's 101 is; "1234" would be 6 digits with code 12.
    await db.insertInto('extensions').values([
      { account_id: me.accountId, site_id: lyon.id, number: '01', type: 'user', status: 'activated' },
      { account_id: me.accountId, site_id: lyon.id, number: '1234', type: 'user', status: 'activated' },
    ]).execute();
    const mainHas101 = await db.selectFrom('extensions').innerJoin('sites', 'sites.id', 'extensions.site_id').select('extensions.id').where('extensions.account_id', '=', me.accountId).where('sites.is_main', '=', true).where('extensions.number', '=', '101').executeTakeFirst();
    expect(mainHas101).toBeDefined();
    const clash = await a.client.json('PATCH', `/api/sites/${lyon.id}`, { siteCode: '1' });
    expect(clash.status).toBe(409);
    expect(await clash.json()).toMatchObject({ error: 'site_code_conflicts', conflicts: expect.arrayContaining([expect.objectContaining({ number: '01', fullNumber: '101', conflict: 'duplicate' })]) });
    const long = await a.client.json('PATCH', `/api/sites/${lyon.id}`, { siteCode: '12' });
    expect(long.status).toBe(409);
    expect(await long.json()).toMatchObject({ conflicts: [expect.objectContaining({ number: '1234', fullNumber: '121234', conflict: 'too_long' })] });
    // Nothing was applied.
    expect(((await (await a.client.get(`/api/sites/${lyon.id}`)).json()) as { siteCode: string | null }).siteCode).toBeNull();

    await db.deleteFrom('extensions').where('site_id', '=', lyon.id).where('number', '=', '1234').execute();
    const ok = await a.client.json('PATCH', `/api/sites/${lyon.id}`, { siteCode: '7' });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { siteCode: string }).siteCode).toBe('7');
    const taken = await a.client.json('POST', '/api/sites', { name: 'Nice', siteCode: '7' });
    expect(taken.status).toBe(409);
    expect(await taken.json()).toMatchObject({ error: 'site_code_taken' });
    const main = ((await (await a.client.get('/api/sites')).json()) as { id: string; isMain: boolean }[]).find((x) => x.isMain)!;
    expect(await (await a.client.json('PATCH', `/api/sites/${main.id}`, { siteCode: '9' })).json()).toMatchObject({ error: 'main_site' });

    const audit = (await (await a.client.get(`/api/audit-events?target=${lyon.id}`)).json()) as { action: string }[];
    expect(audit.map((e) => e.action).sort()).toEqual(['site.created', 'site.updated']);
  });
});

describe('company caller ID name (F000 12.9)', () => {
  it('takes at most 15 characters, keeps it when a later change leaves it out, and audits it', async () => {
    const tooLong = await a.client.json('PATCH', '/api/account', { companyName: 'Alpha Audited', callerIdName: 'Alpha Telecom SAS' });
    expect(tooLong.status).toBe(400);
    expect(((await tooLong.json()) as { fields: Record<string, string> }).fields).toHaveProperty('callerIdName');
    const ok = await a.client.json('PATCH', '/api/account', { companyName: 'Alpha Audited', callerIdName: 'Alpha Telecom' });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { callerIdName: string }).callerIdName).toBe('Alpha Telecom');
    await a.client.json('PATCH', '/api/account', { companyName: 'Alpha Audited', city: 'Lyon' });
    expect(((await (await a.client.get('/api/account')).json()) as { callerIdName: string }).callerIdName).toBe('Alpha Telecom');
    const audit = JSON.stringify(await (await a.client.get('/api/audit-events?action=company.updated')).json());
    expect(audit).toContain('Alpha Telecom');
  });
});

describe('personal contacts', () => {
  it("are the owner's only: validated, searched, and another user's or account's are 404", async () => {
    const bad = await a.client.json('POST', '/api/me/contacts', { firstName: 'Léa', phone: 'call me' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { fields: Record<string, string> }).fields).toHaveProperty('phone');
    expect((await a.client.json('POST', '/api/me/contacts', { phone: '0612345678' })).status).toBe(400);
    const created = await a.client.json('POST', '/api/me/contacts', { firstName: 'Léa', lastName: 'Roux', company: 'Roux & Fils', phone: '+33 6 12 34 56 78', email: 'lea@roux.example' });
    expect(created.status).toBe(201);
    const lea = (await created.json()) as { id: string; phone: string };
    expect(lea.phone).toBe('+33612345678');
    const search = async (q: string) => ((await (await a.client.get(`/api/me/contacts?q=${encodeURIComponent(q)}`)).json()) as { id: string }[]).map((c) => c.id);
    expect(await search('ro')).toEqual([lea.id]);
    expect(await search('3456')).toEqual([lea.id]);
    expect(await search('zz')).toEqual([]);
    expect(await search('')).not.toContain(b.ids.contacts);
    // Another user of the same account: their contacts are not listed, and cannot be deleted.
    await createStandardUsers(db, [{ extension: '160', name: 'colleague', password: 'Meadow5Lantern' }]);
    const colleague = await db.selectFrom('users').select(['id', 'account_id']).where('email', '=', 'colleague@demo.carillon.localhost').executeTakeFirstOrThrow();
    const theirs = await db.insertInto('contacts').values({ account_id: colleague.account_id, owner_user_id: colleague.id, first_name: 'Private', phone: '555' }).returning('id').executeTakeFirstOrThrow();
    expect(await search('priv')).toEqual([]);
    expect((await a.client.request('DELETE', `/api/me/contacts/${theirs.id}`)).status).toBe(404);
    expect(await db.selectFrom('contacts').select('id').where('id', '=', theirs.id).executeTakeFirst()).toBeDefined();
    expect((await a.client.request('DELETE', `/api/me/contacts/${lea.id}`)).status).toBe(204);
    expect(await search('ro')).toEqual([]);
  });
});

describe('trunk and devices', () => {
  it('keeps the trunk password sealed: never returned, never audited, not stored in clear', async () => {
    const put = await b.client.json('PUT', '/api/trunk', {
      name: 'Carrier',
      host: 'sip.carrier.example',
      port: 5060,
      transport: 'udp',
      username: 'beta-trunk',
      password: 'Carrier-Secret-77',
      numberFormat: 'national',
      inboundAddresses: ['127.0.0.1'],
    });
    expect(put.status).toBe(200);
    const trunk = (await put.json()) as Record<string, unknown>;
    expect(trunk).toMatchObject({ host: 'sip.carrier.example', hasPassword: true, numberFormat: 'national' });
    expect(JSON.stringify(trunk)).not.toContain('Carrier-Secret-77');
    const stored = await db.selectFrom('sip_trunks').select('password_sealed').where('id', '=', trunk.id as string).executeTakeFirstOrThrow();
    expect(stored.password_sealed).toMatch(/^v1\./);
    expect(stored.password_sealed).not.toContain('Carrier-Secret-77');
    const audit = JSON.stringify(await (await b.client.get('/api/audit-events?action=trunk')).json());
    expect(audit).toContain('trunk.created');
    expect(audit).not.toContain('Carrier-Secret-77');
    expect(audit).not.toContain(stored.password_sealed);
    // A bad host is refused by field, and A cannot see B's trunk.
    const bad = await b.client.json('PUT', '/api/trunk', { name: 'x', host: 'not a host', port: 99999, transport: 'udp', username: '', numberFormat: 'e164' });
    expect(bad.status).toBe(400);
    expect(Object.keys(((await bad.json()) as { fields: object }).fields).sort()).toEqual(['host', 'port']);
    expect((await a.client.get('/api/trunk')).status).toBe(404);
  });

  it('issues device credentials once, stored as HA1 only, and resets them', async () => {
    const list = (await (await b.client.get('/api/devices')).json()) as { sipUsername: string; mac: string }[];
    expect(list).toHaveLength(1);
    expect(list[0]!.mac).toBe('0004F2AABBCC');
    const reset = (await (await b.client.json('POST', `/api/devices/${b.ids.devices}/credentials`)).json()) as { sip: { username: string; password: string; domain: string } };
    expect(reset.sip.username).toBe(list[0]!.sipUsername);
    expect(reset.sip.password.length).toBeGreaterThanOrEqual(20);
    const row = await db.selectFrom('devices').selectAll().where('id', '=', b.ids.devices!).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(reset.sip.password);
    expect((await a.client.get('/api/devices')).status).toBe(200);
    expect(((await (await a.client.get('/api/devices')).json()) as unknown[]).length).toBe(0);
  });
});

describe('permissions on the server', () => {
  let standard: HttpClient;

  beforeAll(async () => {
    // A Standard user in account A, made directly in the database until the admin portal adds users.
    const admin = await db.selectFrom('users').innerJoin('extensions', 'extensions.id', 'users.extension_id').select(['users.account_id', 'extensions.site_id']).where('users.email', '=', 'admin@demo.carillon.localhost').executeTakeFirstOrThrow();
    const role = await db.selectFrom('roles').select('id').where('key', '=', 'standard').executeTakeFirstOrThrow();
    const ext = await db.insertInto('extensions').values({ account_id: admin.account_id, site_id: admin.site_id, number: '102', type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
    const user = await db.insertInto('users').values({ account_id: admin.account_id, extension_id: ext.id, role_id: role.id, first_name: 'Sam', last_name: 'Standard', email: 'sam@demo.carillon.localhost', setup_progress: JSON.stringify({}) }).returning('id').executeTakeFirstOrThrow();
    await db.insertInto('user_credentials').values({ user_id: user.id, password_hash: await hashSecret('Meadow5Lantern') }).execute();
    standard = new HttpClient(product.url);
    const res = await standard.form('/login', { identifier: 'sam@demo.carillon.localhost', password: 'Meadow5Lantern' });
    expect(res.status).toBe(303);
  });

  it('gives a Standard user 403 on admin APIs and pages, and 200 on their own', async () => {
    expect((await standard.get('/api/users')).status).toBe(403);
    expect((await standard.get('/api/audit-events')).status).toBe(403);
    expect((await standard.json('PATCH', '/api/account', { companyName: 'Hijacked' })).status).toBe(403);
    expect((await standard.get('/admin')).status).toBe(403);
    expect((await standard.get('/api/me')).status).toBe(200);
    const account = (await (await a.client.get('/api/account')).json()) as { companyName: string };
    expect(account.companyName).not.toBe('Hijacked');
  });

  it('asks for a session first', async () => {
    const anonymous = new HttpClient(product.url);
    expect((await anonymous.get('/api/me')).status).toBe(401);
    const page = await anonymous.get('/admin');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toMatch(/^\/login\?next=/);
  });

  it('checks socket events against the same policy', async () => {
    const connect = (client: HttpClient | null) =>
      connectSocket(product.url, {
        path: '/socket.io',
        transports: ['websocket'],
        reconnection: false,
        extraHeaders: client ? { cookie: `carillon_session=${client.cookie('carillon_session')}` } : {},
      });
    const anonymous = connect(null);
    const refused = await new Promise<string>((resolve) => anonymous.on('connect_error', (e) => resolve(e.message)));
    expect(refused).toBe('unauthenticated');
    anonymous.close();

    const sam = connect(standard);
    await new Promise<void>((r) => sam.on('connect', () => r()));
    expect(await sam.emitWithAck('health:watch')).toEqual({ error: 'forbidden' });
    expect(await sam.emitWithAck('no:such-event')).toEqual({ error: 'unknown_event' });
    sam.close();

    const admin = connect(a.client);
    await new Promise<void>((r) => admin.on('connect', () => r()));
    const health = new Promise<{ database: { ok: boolean }; workers: { ok: boolean }; mediaServer: { ok: boolean } }>((r) => admin.once('health', r));
    expect(await admin.emitWithAck('health:watch')).toEqual({ ok: true });
    const h = await health;
    expect(h.database.ok).toBe(true);
    expect(h.workers.ok).toBe(true);
    expect(h.mediaServer.ok).toBe(true);
    admin.close();
  });
});

describe('sessions', () => {
  it('logs out everywhere', async () => {
    const first = new HttpClient(product.url);
    const second = new HttpClient(product.url);
    for (const c of [first, second]) expect((await c.form('/login', { identifier: 'sam@demo.carillon.localhost', password: 'Meadow5Lantern' })).status).toBe(303);
    expect((await second.get('/api/me')).status).toBe(200);
    expect((await first.form('/logout?/everywhere', {})).status).toBe(303);
    expect((await second.get('/api/me')).status).toBe(401);
  });

  it('ends an idle session after the account timeout', async () => {
    const c = new HttpClient(product.url);
    expect((await c.form('/login', { identifier: 'sam@demo.carillon.localhost', password: 'Meadow5Lantern' })).status).toBe(303);
    expect((await c.get('/api/session')).status).toBe(200);
    const sam = await db.selectFrom('users').select('id').where('email', '=', 'sam@demo.carillon.localhost').executeTakeFirstOrThrow();
    await db.updateTable('sessions').set({ last_seen_at: new Date(Date.now() - 3 * 3600_000) }).where('user_id', '=', sam.id).execute();
    expect((await c.get('/api/me')).status).toBe(401);
  });

  it('signs in by main number and extension', async () => {
    const account = (await (await a.client.get('/api/account')).json()) as { mainNumber: string };
    const c = new HttpClient(product.url);
    const res = await c.form('/login', { identifier: account.mainNumber, country: 'US', extension: '102', password: 'Meadow5Lantern' });
    expect(res.status).toBe(303);
    const me = (await (await c.get('/api/me')).json()) as { extension: string };
    expect(me.extension).toBe('102');
  });
});

describe('secrets', () => {
  it('stores argon2id hashes and never writes a password, PIN or answer to the logs', async () => {
    const creds = await db.selectFrom('user_credentials').selectAll().execute();
    expect(creds.length).toBeGreaterThanOrEqual(3);
    for (const c of creds.filter((r) => r.pin_hash)) {
      expect(c.password_hash).toMatch(/^\$argon2id\$/);
      expect(c.pin_hash).toMatch(/^\$argon2id\$/);
      expect(c.security_answer_hash).toMatch(/^\$argon2id\$/);
    }
    const logs = product.output();
    expect(logs.length).toBeGreaterThan(500);
    for (const secret of [STRONG.password, STRONG.pin, STRONG.answer, 'Meadow5Lantern']) expect(logs).not.toContain(secret);
  });
});
