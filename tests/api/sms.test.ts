import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { Socket } from 'socket.io-client';
import { openPostgres, type Db } from '@carillon/db';
import { recordInboundSms } from '@carillon/core/sms';
import { SMS_EVENTS_CHANNEL, type SmsEvent } from '@carillon/contracts/sms-events';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';
import { liveSocket as liveSocketOf } from '../support/live-socket.ts';
import { createStandardUsers } from '../support/softphone-users.ts';
import { createScratchDatabase, testPostgresUrl } from '../support/postgres.ts';
import { redisClient, redisUrl } from '../support/env.ts';

/**
 * Text messages through the product (issue 18, deliverable 1): a user lists
 * the conversations of their own numbers, sends from one of them (a group
 * text makes one shared conversation; otherwise each recipient gets their
 * own), reads, marks read and deletes. Bad input is a clear 400 and stores
 * nothing; another user's or account's conversation is not found; the live
 * 'sms' event reaches the user's socket, end to end through the workers (no
 * carrier is configured here, so the workers fail the text and say so).
 */
let product: RunningProduct;
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let db: Db;
let sam: HttpClient;
let tom: HttpClient;
let beta: HttpClient;
let admin: HttpClient;
let accountId = '';
let betaAccountId = '';
let publisher: Redis;
const sockets: Socket[] = [];
const PASSWORD = 'Meadow5Lantern';
const SAM_NUMBER = '+14155550101';
const TOM_NUMBER = '+14155550102';
const BETA_NUMBER = '+14155550199';

interface Conversation {
  id: string;
  businessNumber: string;
  participants: string[];
  kind: string;
  unread: number;
}
interface Inbox {
  numbers: string[];
  conversations: Conversation[];
  unread: number;
}
interface ConversationView {
  conversation: Conversation;
  messages: { id: string; direction: string; body: string; to: { number: string; status: string }[]; status: string }[];
}
interface LiveSms {
  kind: string;
  conversationId: string;
  messageId: string;
  status: string;
  unread: number;
}

const signedIn = async (email: string) => {
  const c = new HttpClient(product.url);
  expect((await c.form('/login', { identifier: email, password: PASSWORD })).status).toBe(303);
  return c;
};
const inbox = async (c: HttpClient) => {
  const res = await c.get('/api/me/sms');
  expect(res.status).toBe(200);
  return (await res.json()) as Inbox;
};
const messageCount = async () => Number((await db.selectFrom('sms_messages').select((eb) => eb.fn.countAll().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow()).n);
const send = (c: HttpClient, body: Record<string, unknown>) => c.json('POST', '/api/me/sms', body);
const numbers = (n: number, first = 2000) => Array.from({ length: n }, (_, i) => `+1415555${String(first + i).padStart(4, '0')}`);

/** A signed-in socket of the client, and every 'sms' event it hears (closed after the tests). */
async function liveSocket(client: HttpClient) {
  const live = await liveSocketOf<LiveSms>(product.url, client, 'sms');
  sockets.push(live.socket);
  return live;
}

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'sms');
  product = await startProduct({ ...(scratch ? { DATABASE_URL: scratch.url } : {}), REDIS_URL: redisUrl(), ENABLE_UNRELEASED: 'sms' });
  db = openPostgres(product.databaseUrl(), 2);
  publisher = redisClient();
  admin = new HttpClient(product.url);
  expect((await activate(admin, product.activationLink)).status).toBe(303);
  await db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
  await createStandardUsers(db, [
    { extension: '201', name: 'sam', password: PASSWORD },
    { extension: '202', name: 'tom', password: PASSWORD },
  ]);
  const users = await db.selectFrom('users').select(['email', 'extension_id', 'account_id']).execute();
  const samU = users.find((u) => u.email.startsWith('sam@'))!;
  const tomU = users.find((u) => u.email.startsWith('tom@'))!;
  accountId = samU.account_id;
  await db
    .insertInto('phone_numbers')
    .values([
      { account_id: accountId, e164: SAM_NUMBER, type: 'direct', extension_id: samU.extension_id },
      { account_id: accountId, e164: TOM_NUMBER, type: 'direct', extension_id: tomU.extension_id },
    ])
    .execute();
  sam = await signedIn('sam@demo.carillon.localhost');
  tom = await signedIn('tom@demo.carillon.localhost');
  const created = await product.createAccount(['--company', 'Beta Corp', '--email', 'boss@beta.example']);
  beta = new HttpClient(product.url);
  expect((await activate(beta, created.link)).status).toBe(303);
  const betaUser = await db.selectFrom('users').select(['account_id', 'extension_id']).where('email', '=', 'boss@beta.example').executeTakeFirstOrThrow();
  betaAccountId = betaUser.account_id;
  await db.insertInto('phone_numbers').values({ account_id: betaAccountId, e164: BETA_NUMBER, type: 'direct', extension_id: betaUser.extension_id }).execute();
}, 180_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  await publisher?.quit();
  await db?.destroy();
  expect(await product?.stop()).toBe(0);
  await scratch?.drop();
});

describe('sending', () => {
  it('lists the user’s own numbers and nothing else yet', async () => {
    expect(await inbox(sam)).toEqual({ numbers: [SAM_NUMBER], conversations: [], unread: 0 });
    expect((await inbox(tom)).numbers).toEqual([TOM_NUMBER]);
    // Where the area is enabled, the Messages page has its Texts section (hidden elsewhere: answering-rules.test.ts).
    expect(await (await sam.get('/me/messages')).text()).toContain('data-testid="sms-inbox"');
  });

  it('sends the same text to each recipient in a conversation of their own, queued to the workers, and the failure comes back live', async () => {
    const live = await liveSocket(sam);
    const res = await send(sam, { from: SAM_NUMBER, to: '(415) 555-3001; +14155553002', body: 'Hello there' });
    expect(res.status, await res.clone().text()).toBe(201);
    const sent = (await res.json()) as { messageIds: string[]; conversationIds: string[] };
    expect(sent.messageIds).toHaveLength(2);
    expect(sent.conversationIds).toHaveLength(2);
    const view = await inbox(sam);
    expect(view.conversations.map((c) => c.participants).sort()).toEqual([['+14155553001'], ['+14155553002']]);
    expect(view.conversations.every((c) => c.kind === 'direct' && c.businessNumber === SAM_NUMBER)).toBe(true);
    // The workers took the jobs; with no carrier configured they fail the texts, and the user hears it.
    const failed = await live.next((e) => e.kind === 'status' && e.messageId === sent.messageIds[0]);
    expect(failed.status).toBe('failed');
    expect(sent.conversationIds).toContain(failed.conversationId);
    const row = await db.selectFrom('sms_messages').select(['status', 'reason', 'user_id', 'traffic_class']).where('id', '=', sent.messageIds[0]!).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'failed', reason: 'no SMS carrier configured for this number', traffic_class: 'p2p' });
    live.socket.close();
  });

  it('sends a group text as one shared conversation, shown as one text with its members', async () => {
    const res = await send(sam, { from: SAM_NUMBER, to: '4155554001, 4155554002; 14155554003', group: true, body: 'Lunch at noon?' });
    expect(res.status, await res.clone().text()).toBe(201);
    const sent = (await res.json()) as { messageIds: string[]; conversationIds: string[] };
    expect(sent.messageIds).toHaveLength(3);
    expect(sent.conversationIds).toHaveLength(1);
    const conv = await sam.get(`/api/me/sms/conversations/${sent.conversationIds[0]}`);
    expect(conv.status).toBe(200);
    const view = (await conv.json()) as ConversationView;
    expect(view.conversation.kind).toBe('group');
    expect(view.conversation.participants).toEqual(['+14155554001', '+14155554002', '+14155554003']);
    expect(view.messages).toHaveLength(1);
    expect(view.messages[0]!.to.map((t) => t.number).sort()).toEqual(['+14155554001', '+14155554002', '+14155554003']);
  });

  it('sends nothing twice when the browser retries with the same send id', async () => {
    const sendId = crypto.randomUUID();
    const first = await send(sam, { from: SAM_NUMBER, to: '+14155555001', body: 'Once', sendId });
    expect(first.status).toBe(201);
    const before = await messageCount();
    const again = await send(sam, { from: SAM_NUMBER, to: '+14155555001', body: 'Once', sendId });
    expect(again.status).toBe(201);
    expect(((await again.json()) as { messageIds: string[] }).messageIds).toEqual([]);
    expect(await messageCount()).toBe(before);
  });
});

describe('bad input: a clear 400, and nothing stored', () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['11 recipients in a group text', { to: numbers(11).join(','), group: true, body: 'hi' }, 'too_many', /group text has at most 10 recipients \(11 given\)/],
    ['101 recipients without group', { to: numbers(101).join(';'), group: false, body: 'hi' }, 'too_many', /at most 100 recipients \(101 given\)/],
    ['a non-US number in a group text', { to: '+14155556001, +442071234567', group: true, body: 'hi' }, 'group_outside_us_ca_pr', /\+442071234567: group texts go to US, Canadian and Puerto Rican numbers only/],
    ['a Jamaican (+1 876) number in a group text', { to: '+14155556001, +18765550123', group: true, body: 'hi' }, 'group_outside_us_ca_pr', /\+18765550123/],
    ['something that is not a number', { to: '+14155556001, 555-01', body: 'hi' }, 'invalid_number', /555-01 is not a phone number/],
    ['a name that is none of the user’s contacts', { to: '+14155556001, call me', body: 'hi' }, 'unknown_contact', /no contact of yours is named call me/],
    ['no recipient at all', { to: ' ; , ', body: 'hi' }, 'empty', /at least one recipient/],
    ['a message longer than 10 segments', { to: '+14155556001', body: 'x'.repeat(153 * 10 + 1) }, 'too_long', /11 segments; at most 10/],
    ['a blank message', { to: '+14155556001', body: '   ' }, 'empty_body', /empty/],
    ['another user’s number as sender', { from: TOM_NUMBER, to: '+14155556001', body: 'hi' }, 'not_your_number', /\+14155550102 is not one of your numbers/],
    ['another account’s number as sender', { from: BETA_NUMBER, to: '+14155556001', body: 'hi' }, 'not_your_number', /not one of your numbers/],
  ];
  for (const [what, body, error, message] of cases) {
    it(what, async () => {
      const before = await messageCount();
      const res = await send(sam, { from: SAM_NUMBER, ...body });
      expect(res.status).toBe(400);
      const answer = (await res.json()) as { error: string; message: string };
      expect(answer.error).toBe(error);
      expect(answer.message).toMatch(message);
      expect(await messageCount()).toBe(before);
    });
  }

  it('warns about a shortened link in the composer, and refuses it while the account requires clean content', async () => {
    const warned = await send(sam, { from: SAM_NUMBER, to: '+14155556101', body: 'Pics: https://bit.ly/abc' });
    expect(warned.status).toBe(201);
    expect(((await warned.json()) as { warnings: unknown[] }).warnings).toEqual([{ code: 'shortened_url', domain: 'bit.ly', message: expect.stringContaining('URL shortener') }]);
    expect((await admin.json('PUT', '/api/sms/content-policy', { requireCleanContent: true })).status).toBe(200);
    try {
      const before = await messageCount();
      const refused = await send(sam, { from: SAM_NUMBER, to: '+14155556102', body: 'Pics: https://bit.ly/abc' });
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({ error: 'unclean_content', warnings: [{ code: 'shortened_url', domain: 'bit.ly' }] });
      expect(await messageCount()).toBe(before);
      expect((await send(sam, { from: SAM_NUMBER, to: '+14155556102', body: 'Pics on our site' })).status).toBe(201);
    } finally {
      expect((await admin.json('PUT', '/api/sms/content-policy', { requireCleanContent: false })).status).toBe(200);
    }
  });

  it('refuses a body of the wrong shape, naming the field', async () => {
    for (const body of [{ from: SAM_NUMBER, to: 5, body: 'hi' }, { from: SAM_NUMBER, to: '+14155556001', body: 'hi', group: 'yes' }, { from: SAM_NUMBER, to: '+14155556001', body: 'hi', admin: true }]) {
      const res = await send(sam, body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_body');
    }
    const notJson = await sam.request('POST', '/api/me/sms', '{"from":', { 'content-type': 'application/json' });
    expect(notJson.status).toBe(400);
  });
});

describe('receiving, reading and deleting', () => {
  let conversationId = '';

  it('shows a received text as unread, live on the user’s socket, and marks it read', async () => {
    const live = await liveSocket(sam);
    const messageId = await recordInboundSms(db, { accountId, carrierId: await carrier(), from: '+14155557001', to: SAM_NUMBER, body: 'Are you there?', encoding: 'gsm7', segments: 1, idempotencyKey: `inbound:${crypto.randomUUID()}` });
    // What the workers' gateway publishes once it stored a text.
    await publisher.publish(SMS_EVENTS_CHANNEL, JSON.stringify({ kind: 'received', accountId, messageId } satisfies SmsEvent));
    const heard = await live.next((e) => e.messageId === messageId);
    expect(heard).toMatchObject({ kind: 'received', status: 'received', unread: 1 });
    conversationId = heard.conversationId;
    const view = await inbox(sam);
    expect(view.unread).toBe(1);
    expect(view.conversations.find((c) => c.id === conversationId)).toMatchObject({ unread: 1, participants: ['+14155557001'] });
    const read = await sam.json('POST', `/api/me/sms/conversations/${conversationId}/read`);
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual({ unread: 0 });
    expect((await inbox(sam)).unread).toBe(0);
    live.socket.close();
  });

  it('ignores events of the wrong shape on the channel, and keeps relaying', async () => {
    const live = await liveSocket(sam);
    await publisher.publish(SMS_EVENTS_CHANNEL, 'not json');
    await publisher.publish(SMS_EVENTS_CHANNEL, JSON.stringify({ kind: 'received', accountId: 'x', messageId: 'y' }));
    const messageId = await recordInboundSms(db, { accountId, carrierId: await carrier(), from: '+14155557001', to: SAM_NUMBER, body: 'Hello?', encoding: 'gsm7', segments: 1, idempotencyKey: `inbound:${crypto.randomUUID()}` });
    await publisher.publish(SMS_EVENTS_CHANNEL, JSON.stringify({ kind: 'received', accountId, messageId } satisfies SmsEvent));
    expect((await live.next((e) => e.messageId === messageId)).unread).toBe(1);
    expect(live.heard.every((e) => e.conversationId === conversationId)).toBe(true);
    live.socket.close();
  });

  it('keeps another user’s and another account’s hands off the conversation', async () => {
    for (const [client, label] of [[tom, 'tom'], [beta, 'beta']] as const) {
      expect((await client.get(`/api/me/sms/conversations/${conversationId}`)).status, label).toBe(404);
      expect((await client.json('POST', `/api/me/sms/conversations/${conversationId}/read`)).status, label).toBe(404);
      expect((await client.json('DELETE', `/api/me/sms/conversations/${conversationId}`)).status, label).toBe(404);
      expect((await inbox(client)).conversations, label).toEqual([]);
    }
    expect((await sam.get('/api/me/sms/conversations/not-a-uuid')).status).toBe(404);
    expect((await sam.get(`/api/me/sms/conversations/${crypto.randomUUID()}`)).status).toBe(404);
    // Still there, unread count untouched by the others' attempts.
    expect((await sam.get(`/api/me/sms/conversations/${conversationId}`)).status).toBe(200);
  });

  it('deletes a conversation with its texts', async () => {
    const res = await sam.json('DELETE', `/api/me/sms/conversations/${conversationId}`);
    expect(res.status).toBe(204);
    expect((await sam.get(`/api/me/sms/conversations/${conversationId}`)).status).toBe(404);
    expect(await db.selectFrom('sms_messages').select('id').where('conversation_id', '=', conversationId).execute()).toEqual([]);
    expect((await inbox(sam)).unread).toBe(0);
  });

  it('needs a session', async () => {
    const anonymous = new HttpClient(product.url);
    expect((await anonymous.get('/api/me/sms')).status).toBe(401);
    expect((await send(anonymous, { from: SAM_NUMBER, to: '+14155556001', body: 'hi' })).status).toBe(401);
  });
});

describe('contacts in the To field', () => {
  const addContact = async (c: HttpClient, contact: Record<string, unknown>) => expect((await c.json('POST', '/api/me/contacts', contact)).status).toBe(201);

  it('takes the user’s own contacts by name beside numbers, never another user’s or account’s', async () => {
    await addContact(sam, { firstName: 'Alice', lastName: 'Martin', phone: '(415) 555-8001' });
    await addContact(sam, { company: 'Acme Supplies', phone: '4155558002' });
    await addContact(tom, { firstName: 'Tina', lastName: 'Tomsdottir', phone: '+14155558003' });
    await addContact(beta, { firstName: 'Bea', lastName: 'Beta', phone: '+14155558004' });
    const res = await send(sam, { from: SAM_NUMBER, to: 'alice martin; Acme Supplies, 4155558005', group: true, body: 'Contacts and a number' });
    expect(res.status, await res.clone().text()).toBe(201);
    const sent = (await res.json()) as { conversationIds: string[] };
    const view = (await (await sam.get(`/api/me/sms/conversations/${sent.conversationIds[0]}`)).json()) as ConversationView;
    expect(view.conversation.participants).toEqual(['+14155558001', '+14155558002', '+14155558005']);
    for (const name of ['Tina Tomsdottir', 'Bea Beta']) {
      const before = await messageCount();
      const refused = await send(sam, { from: SAM_NUMBER, to: name, body: 'hi' });
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({ error: 'unknown_contact', message: `no contact of yours is named ${name}` });
      expect(await messageCount()).toBe(before);
    }
  });

  it('refuses a name two of the user’s contacts share with different numbers', async () => {
    await addContact(sam, { firstName: 'Pat', lastName: 'Lee', phone: '4155558011' });
    await addContact(sam, { firstName: 'Pat', lastName: 'Lee', phone: '4155558012' });
    const before = await messageCount();
    const res = await send(sam, { from: SAM_NUMBER, to: 'Pat Lee', body: 'hi' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'ambiguous_contact', message: '2 of your contacts named Pat Lee have different numbers: type the number' });
    expect(await messageCount()).toBe(before);
  });
});

describe('company numbers', () => {
  const COMPANY_NUMBER = '+14155550150';

  it('gives texts to a company number to the Company Fax/SMS recipient, who may answer from it', async () => {
    await db.insertInto('phone_numbers').values({ account_id: accountId, e164: COMPANY_NUMBER, type: 'additional_company', extension_id: null }).execute();
    const before = await recordInboundSms(db, { accountId, carrierId: await carrier(), from: '+14155559001', to: COMPANY_NUMBER, body: 'Before a recipient', encoding: 'gsm7', segments: 1, idempotencyKey: `inbound:${crypto.randomUUID()}` });
    // Nobody is named yet: the text is kept, nobody's.
    expect((await db.selectFrom('sms_messages').select('user_id').where('id', '=', before).executeTakeFirstOrThrow()).user_id).toBeNull();
    expect((await inbox(sam)).numbers).toEqual([SAM_NUMBER]);
    // The admin names sam's extension (201) as the recipient (the IVR settings; their API is in ivr.test.ts).
    await db.insertInto('ivr_settings').values({ account_id: accountId, settings: JSON.stringify({ faxSmsRecipient: '201' }) }).onConflict((oc) => oc.column('account_id').doUpdateSet({ settings: JSON.stringify({ faxSmsRecipient: '201' }) })).execute();
    const after = await recordInboundSms(db, { accountId, carrierId: await carrier(), from: '+14155559001', to: COMPANY_NUMBER, body: 'Anyone there?', encoding: 'gsm7', segments: 1, idempotencyKey: `inbound:${crypto.randomUUID()}` });
    const samId = (await db.selectFrom('users').select('id').where('email', 'like', 'sam@%').executeTakeFirstOrThrow()).id;
    expect((await db.selectFrom('sms_messages').select('user_id').where('id', '=', after).executeTakeFirstOrThrow()).user_id).toBe(samId);
    const view = await inbox(sam);
    // Every company number is the recipient's: the one added and the account's main number.
    const main = await db.selectFrom('phone_numbers').select('e164').where('account_id', '=', accountId).where('type', '=', 'main').execute();
    expect(main).toHaveLength(1);
    expect(view.numbers).toEqual([SAM_NUMBER, COMPANY_NUMBER, `+${main[0]!.e164.replace(/^\+/, '')}`].sort());
    const conversation = view.conversations.find((c) => c.businessNumber === COMPANY_NUMBER)!;
    expect(conversation).toMatchObject({ participants: ['+14155559001'], unread: 2 });
    expect((await send(sam, { from: COMPANY_NUMBER, to: '+14155559001', body: 'Yes, how can we help?' })).status).toBe(201);
    // Not tom's, nor another account's.
    expect((await inbox(tom)).numbers).toEqual([TOM_NUMBER]);
    expect((await tom.get(`/api/me/sms/conversations/${conversation.id}`)).status).toBe(404);
    expect((await beta.get(`/api/me/sms/conversations/${conversation.id}`)).status).toBe(404);
    expect((await send(tom, { from: COMPANY_NUMBER, to: '+14155559001', body: 'hi' })).status).toBe(400);
  });

  it('counts a company number on an IVR menu as the company’s, and one on a user’s extension as that user’s', async () => {
    const tomU = await db.selectFrom('users').select(['id', 'extension_id']).where('email', 'like', 'tom@%').executeTakeFirstOrThrow();
    const site = await db.selectFrom('sites').select('id').where('account_id', '=', accountId).executeTakeFirstOrThrow();
    const menu = await db.insertInto('extensions').values({ account_id: accountId, site_id: site.id, number: '1901', type: 'ivr_menu', status: 'activated', name: 'Main menu' }).returning('id').executeTakeFirstOrThrow();
    await db
      .insertInto('phone_numbers')
      .values([
        { account_id: accountId, e164: '+14155550151', type: 'additional_company', extension_id: menu.id },
        { account_id: accountId, e164: '+14155550152', type: 'additional_company', extension_id: tomU.extension_id },
      ])
      .execute();
    const owner = async (to: string) => {
      const id = await recordInboundSms(db, { accountId, carrierId: await carrier(), from: '+14155559002', to, body: 'Who reads this?', encoding: 'gsm7', segments: 1, idempotencyKey: `inbound:${crypto.randomUUID()}` });
      return (await db.selectFrom('sms_messages').select('user_id').where('id', '=', id).executeTakeFirstOrThrow()).user_id;
    };
    const samId = (await db.selectFrom('users').select('id').where('email', 'like', 'sam@%').executeTakeFirstOrThrow()).id;
    expect(await owner('+14155550151')).toBe(samId);
    expect(await owner('+14155550152')).toBe(tomU.id);
    expect((await inbox(sam)).numbers).toContain('+14155550151');
    expect((await inbox(sam)).numbers).not.toContain('+14155550152');
    expect((await inbox(tom)).numbers).toEqual([TOM_NUMBER, '+14155550152'].sort());
  });
});

describe('notification e-mails', () => {
  it('offers “Received text messages” in a user’s Notifications tab where the area is enabled, and stores the choice', async () => {
    const samId = (await db.selectFrom('users').select('id').where('email', 'like', 'sam@%').executeTakeFirstOrThrow()).id;
    const page = await (await admin.get(`/admin/users/${samId}`)).text();
    expect(page).toContain('Received text messages');
    // Voicemail's switch waits for its own area.
    expect(page).not.toContain('Voicemail messages');
    const details = (await (await admin.get(`/api/users/${samId}`)).json()) as { notifications: Record<string, unknown> };
    const res = await admin.json('PATCH', `/api/users/${samId}`, { notifications: { ...details.notifications, textMessages: { email: true } } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { notifications: { textMessages: unknown } }).notifications.textMessages).toEqual({ email: true });
    expect((await admin.json('PATCH', `/api/users/${samId}`, { notifications: { ...details.notifications, textMessages: { email: 'yes' } } })).status).toBe(400);
    // Another account's admin cannot change it.
    expect((await beta.json('PATCH', `/api/users/${samId}`, { notifications: { ...details.notifications, textMessages: { email: false } } })).status).toBe(404);
  });
});

describe('search', () => {
  interface Hit { messageId: string; conversationId: string; businessNumber: string; direction: string; from: string; to: string; body: string }
  const search = async (c: HttpClient, query: string) => {
    const res = await c.get(`/api/me/sms/search?${query}`);
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as { results: Hit[]; truncated: boolean };
  };
  const receive = async (to: string, from: string, body: string, account = accountId) =>
    recordInboundSms(db, { accountId: account, carrierId: await carrier(account), from, to, body, encoding: 'gsm7', segments: 1, idempotencyKey: `inbound:${crypto.randomUUID()}` });

  it('finds the user’s texts by words, in any case, and by part of the other party’s number, newest first', async () => {
    const first = await receive(SAM_NUMBER, '+14155557777', 'Invoice 42 is ready');
    const second = await receive(SAM_NUMBER, '+14155557778', 'the INVOICE was paid, 100% sure');
    await receive(TOM_NUMBER, '+14155557777', 'Invoice for tom');
    await receive(BETA_NUMBER, '+14155557777', 'Invoice for beta', betaAccountId);
    const words = await search(sam, 'q=invoice');
    expect(words.results.map((h) => h.messageId)).toEqual([second, first]);
    expect(words.results[1]).toMatchObject({ direction: 'inbound', from: '+14155557777', to: SAM_NUMBER, body: 'Invoice 42 is ready', businessNumber: SAM_NUMBER });
    expect(words.truncated).toBe(false);
    // Typed as people write numbers; only the other party's number counts.
    expect((await search(sam, `q=${encodeURIComponent('(415) 555-7777')}`)).results.map((h) => h.messageId)).toEqual([first]);
    // LIKE's wildcards are plain characters here.
    expect((await search(sam, `q=${encodeURIComponent('100%')}`)).results.map((h) => h.messageId)).toEqual([second]);
    expect((await search(sam, 'q=_')).results).toEqual([]);
    // A group text is found once, not once per member.
    const lunch = await search(sam, 'q=lunch');
    expect(lunch.results).toHaveLength(1);
    expect(lunch.results[0]).toMatchObject({ direction: 'outbound', body: 'Lunch at noon?' });
    // The same text sent to two people individually is in two conversations: two hits.
    expect((await search(sam, 'q=hello%20there')).results).toHaveLength(2);
  });

  it('bounds the results and says when there were more', async () => {
    const page = await search(sam, 'q=invoice&limit=1');
    expect(page.results).toHaveLength(1);
    expect(page.truncated).toBe(true);
  });

  it('searches the user’s own conversations only', async () => {
    expect((await search(tom, 'q=invoice')).results.map((h) => h.body)).toEqual(['Invoice for tom']);
    expect((await search(beta, 'q=invoice')).results.map((h) => h.body)).toEqual(['Invoice for beta']);
    expect((await search(tom, 'q=lunch')).results).toEqual([]);
  });

  it('refuses a missing, empty, too long or unknown parameter, and needs a session', async () => {
    for (const query of ['', 'q=', 'q=%20%20', `q=${'x'.repeat(101)}`, 'q=hi&limit=0', 'q=hi&limit=101', 'q=hi&limit=ten', 'q=hi&account=x']) {
      const res = await sam.get(`/api/me/sms/search?${query}`);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { error: string }).error, query).toBe('invalid_query');
    }
    expect((await new HttpClient(product.url).get('/api/me/sms/search?q=hi')).status).toBe(401);
  });
});

/** A carrier row for received texts to point at (the workers never bind it: it is disabled). */
const carrierIds = new Map<string, string>();
async function carrier(account = accountId): Promise<string> {
  let id = carrierIds.get(account);
  if (!id) {
    id = (
      await db
        .insertInto('sms_carriers')
        .values({ account_id: account, name: 'Loop', host: '127.0.0.1', port: 1, system_id: 'x', password_sealed: 'x', enabled: false })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
    carrierIds.set(account, id);
  }
  return id;
}
