import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createAccount, digestHash, findSipDeviceCredential, issueDeviceCredentials, type DigestAlgorithm } from '@carillon/core';
import type { Db } from '@carillon/db';
import { freshDb, redisClient } from '../../../tests/support/env.ts';
import { parseSipMessage, SipRequest, type SipResponse } from '../../src/sip/message/index.ts';
import { DigestAuthority } from '../../src/sip/auth/digest-challenge.ts';
import { NonceLedger } from '../../src/sip/auth/nonce-ledger.ts';
import { AuthThrottle } from '../../src/registrar/auth-throttle.ts';
import { BindingStore } from '../../src/registrar/binding-store.ts';
import { CredentialCache } from '../../src/registrar/credential-cache.ts';
import { Registrar } from '../../src/registrar/registrar.ts';

const REALM = 'carillon.test';
let db: Db;
let redis: Redis;
let prefix: string;
let registrar: Registrar;
let store: BindingStore;
let auth: DigestAuthority;
let device: { username: string; password: string; extensionId: string };
/** A second device of the same extension, the colleague behind the same NAT address. */
let colleague: { username: string; password: string };
let nonces: NonceLedger;

beforeAll(async () => {
  db = await freshDb();
  redis = redisClient();
  prefix = `carillon:test:${randomBytes(4).toString('hex')}:reg:`;
  const acct = await createAccount(db, { company: 'Reg Co', email: `reg-${randomBytes(3).toString('hex')}@x.test` }, { activationTtlHours: 1 });
  const ext = await db.selectFrom('users').select('extension_id').where('id', '=', acct.userId).executeTakeFirstOrThrow();
  const creds = await issueDeviceCredentials(db, { userId: null, ip: null }, { accountId: acct.accountId, extensionId: ext.extension_id, type: 'desk_phone', name: 'Desk', realm: REALM });
  device = { ...creds, extensionId: ext.extension_id };
  colleague = await issueDeviceCredentials(db, { userId: null, ip: null }, { accountId: acct.accountId, extensionId: ext.extension_id, type: 'desk_phone', name: 'Colleague', realm: REALM });
  nonces = new NonceLedger(redis, `${prefix}nonce:`);
  auth = new DigestAuthority({ realm: REALM, ttlSeconds: 300, nonces });
  store = new BindingStore(redis, prefix);
  registrar = new Registrar({
    auth,
    credentials: new CredentialCache((u) => findSipDeviceCredential(db, u)),
    store,
    throttle: new AuthThrottle(5),
    settings: { minExpires: 60, maxExpires: 3600, defaultExpires: 3600, nodeId: 'test' },
  });
});

afterAll(async () => {
  const keys = await redis.keys(prefix + '*');
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

let cseq = 1;
function register(opts: { aor?: string; contact?: string; expires?: number; authorization?: string; callId?: string }): SipRequest {
  const text = [
    `REGISTER sip:${REALM} SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK' + randomBytes(4).toString('hex') + ';rport',
    `From: <sip:${opts.aor ?? device.username}@${REALM}>;tag=t1`,
    `To: <sip:${opts.aor ?? device.username}@${REALM}>`,
    `Call-ID: ${opts.callId ?? 'reg-call-1'}`,
    `CSeq: ${cseq++} REGISTER`,
    `Contact: ${opts.contact ?? '<sip:' + device.username + '@192.0.2.10:5062>'}`,
    ...(opts.expires !== undefined ? [`Expires: ${opts.expires}`] : []),
    ...(opts.authorization ? [`Authorization: ${opts.authorization}`] : []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const r = parseSipMessage(Buffer.from(text));
  if (!r.ok || r.message.kind !== 'request') throw new Error('bad test message');
  return r.message;
}

/** The client side of digest, as RFC 7616 §3.4.1 computes it. */
function answer(challenge: SipResponse, algorithm: DigestAlgorithm, password: string, username = device.username): string {
  const header = challenge.getAll('www-authenticate').find((h) => h.includes(`algorithm=${algorithm}`))!;
  const nonce = /nonce="([^"]+)"/.exec(header)![1]!;
  const uri = `sip:${REALM}`;
  const ha1 = digestHash(algorithm, `${username}:${REALM}:${password}`);
  const ha2 = digestHash(algorithm, `REGISTER:${uri}`);
  const nc = '00000001';
  const cnonce = randomBytes(4).toString('hex');
  const response = digestHash(algorithm, `${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${username}", realm="${REALM}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=${algorithm}, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
}

const source = (address = '192.0.2.10') => ({ transport: 'UDP', remoteAddress: address, remotePort: 5062 });

describe('registrar (RFC 3261 §10.3) with digest (RFC 7616, RFC 8760)', () => {
  it('challenges first, SHA-256 preferred, and registers with either algorithm', async () => {
    const challenge = await registrar.handleRegister(register({}), source());
    expect(challenge.status).toBe(401);
    const offered = challenge.getAll('www-authenticate');
    expect(offered[0]).toContain('algorithm=SHA-256');
    expect(offered[1]).toContain('algorithm=MD5');
    expect(offered[0]).toContain('qop="auth"');

    for (const algorithm of ['SHA-256', 'MD5'] as const) {
      // A fresh challenge each time: the same nonce and nonce-count twice is a replay.
      const fresh = await registrar.handleRegister(register({}), source());
      const ok = await registrar.handleRegister(register({ authorization: answer(fresh, algorithm, device.password) }), source());
      expect(ok.status, algorithm).toBe(200);
      expect(ok.getAll('contact')).toHaveLength(1);
    }
    const bindings = await store.list(device.extensionId);
    expect(bindings.map((b) => b.contact)).toEqual([`sip:${device.username}@192.0.2.10:5062`]);
    expect(bindings[0]!.source).toMatchObject({ transport: 'UDP', address: '192.0.2.10', port: 5062 });
  });

  it('answers 403 to a wrong password, and a fresh challenge (not access) to a replayed response', async () => {
    const challenge = await registrar.handleRegister(register({}), source('192.0.2.20'));
    expect((await registrar.handleRegister(register({ authorization: answer(challenge, 'MD5', 'wrong-password') }), source('192.0.2.20'))).status).toBe(403);
    const good = answer(challenge, 'MD5', device.password);
    expect((await registrar.handleRegister(register({ authorization: good }), source('192.0.2.20'))).status).toBe(200);
    // The same nonce count again: a replay, or a client that restarted its count after a reconnect.
    const replayed = await registrar.handleRegister(register({ authorization: good }), source('192.0.2.20'));
    expect(replayed.status).toBe(401);
    expect(replayed.get('www-authenticate')).toContain('stale=true');
    expect(replayed.get('www-authenticate')).not.toContain(/nonce="([^"]+)"/.exec(good)![1]!);
  });

  it('asks again with stale=true when the nonce has expired', async () => {
    const old = new DigestAuthority({ realm: REALM, ttlSeconds: 300, secret: Buffer.alloc(32, 7), nonces });
    const r = new Registrar({
      auth: old,
      credentials: new CredentialCache((u) => findSipDeviceCredential(db, u)),
      store,
      throttle: new AuthThrottle(5),
      settings: { minExpires: 60, maxExpires: 3600, defaultExpires: 3600, nodeId: 'test' },
    });
    const nonce = old.newNonce(Date.now() - 301_000);
    const fake = { getAll: () => [`Digest realm="${REALM}", nonce="${nonce}", algorithm=MD5, qop="auth"`] } as unknown as SipResponse;
    const res = await r.handleRegister(register({ authorization: answer(fake, 'MD5', device.password) }), source());
    expect(res.status).toBe(401);
    expect(res.get('www-authenticate')).toContain('stale=true');
  });

  it('keeps a binding per instance, refuses too-brief intervals, and unregisters', async () => {
    await store.removeAll(device.extensionId);
    const tab = (n: number) => `;+sip.instance="<urn:uuid:00000000-0000-4000-8000-00000000000${n}>"`;
    const c0 = await registrar.handleRegister(register({}), source());
    const first = await registrar.handleRegister(register({ contact: `<sip:${device.username}@192.0.2.10:5062>${tab(1)}`, callId: 'reg-call-1', authorization: answer(c0, 'SHA-256', device.password) }), source());
    expect(first.status).toBe(200);
    const c1 = await registrar.handleRegister(register({}), source());
    const second = await registrar.handleRegister(
      register({ contact: `<sip:${device.username}@192.0.2.11:5070>;expires=120${tab(2)}`, callId: 'reg-call-2', authorization: answer(c1, 'SHA-256', device.password) }),
      source('192.0.2.11'),
    );
    expect(second.status).toBe(200);
    expect(second.getAll('contact')).toHaveLength(2);

    const c2 = await registrar.handleRegister(register({}), source());
    const brief = await registrar.handleRegister(register({ expires: 10, callId: 'reg-call-3', authorization: answer(c2, 'MD5', device.password) }), source());
    expect(brief.status).toBe(423);
    expect(brief.get('min-expires')).toBe('60');

    const c3 = await registrar.handleRegister(register({}), source());
    const off = await registrar.handleRegister(register({ contact: '*', expires: 0, callId: 'reg-call-4', authorization: answer(c3, 'MD5', device.password) }), source());
    expect(off.status).toBe(200);
    expect(await store.list(device.extensionId)).toEqual([]);
  });

  it('replaces the bindings a device without +sip.instance left from an earlier Call-ID (rebooted or moved)', async () => {
    await store.removeAll(device.extensionId);
    const c0 = await registrar.handleRegister(register({}), source());
    await registrar.handleRegister(register({ callId: 'boot-1', authorization: answer(c0, 'MD5', device.password) }), source());
    const c1 = await registrar.handleRegister(register({}), source());
    const same = await registrar.handleRegister(register({ contact: `<sip:${device.username}@192.0.2.10:5064>`, callId: 'boot-1', authorization: answer(c1, 'MD5', device.password) }), source());
    // The same boot cycle may hold several contacts (RFC 3261 §10.2.1).
    expect(same.getAll('contact')).toHaveLength(2);
    const c2 = await registrar.handleRegister(register({}), source());
    const moved = await registrar.handleRegister(register({ contact: `<sip:${device.username}@198.51.100.7:40123>`, callId: 'boot-2', authorization: answer(c2, 'MD5', device.password) }), source('198.51.100.7'));
    expect(moved.status).toBe(200);
    expect(moved.getAll('contact')).toEqual([expect.stringContaining('198.51.100.7:40123')]);
    expect((await store.list(device.extensionId)).map((b) => b.callId)).toEqual(['boot-2']);
    await store.removeAll(device.extensionId);
  });

  it('registers by extension number as the address of record, and refuses someone else\'s', async () => {
    const c = await registrar.handleRegister(register({ aor: '101' }), source());
    expect((await registrar.handleRegister(register({ aor: '101', callId: 'reg-call-5', authorization: answer(c, 'MD5', device.password) }), source())).status).toBe(200);
    const c2 = await registrar.handleRegister(register({ aor: '999' }), source());
    expect((await registrar.handleRegister(register({ aor: '999', callId: 'reg-call-6', authorization: answer(c2, 'MD5', device.password) }), source())).status).toBe(403);
  });

  it('throttles a user at an address after repeated failures, not the other users behind that address', async () => {
    const nat = '192.0.2.66';
    for (let i = 0; i < 5; i++) {
      const c = await registrar.handleRegister(register({}), source(nat));
      expect((await registrar.handleRegister(register({ authorization: answer(c, 'MD5', 'guess' + i) }), source(nat))).status).toBe(403);
    }
    const c0 = await registrar.handleRegister(register({}), source(nat));
    const blocked = await registrar.handleRegister(register({ authorization: answer(c0, 'MD5', device.password) }), source(nat));
    expect(blocked.status).toBe(403);
    expect(blocked.reason).toBe('Too Many Failed Attempts');
    // The colleague behind the same NAT address still registers.
    const c1 = await registrar.handleRegister(register({ aor: colleague.username }), source(nat));
    expect(c1.status).toBe(401);
    const ok = await registrar.handleRegister(register({ aor: colleague.username, callId: 'reg-call-nat', authorization: answer(c1, 'MD5', colleague.password, colleague.username) }), source(nat));
    expect(ok.status).toBe(200);
    // So does the same user from elsewhere.
    const c = await registrar.handleRegister(register({}), source('192.0.2.10'));
    expect((await registrar.handleRegister(register({ callId: 'reg-call-7', authorization: answer(c, 'MD5', device.password) }), source('192.0.2.10'))).status).toBe(200);
  });

  it('checks at most the limit of passwords when wrong guesses arrive all at once', async () => {
    // Its own throttle: the guesses must all reach the check before any of them is answered.
    const r = new Registrar({
      auth,
      credentials: new CredentialCache((u) => findSipDeviceCredential(db, u)),
      store,
      throttle: new AuthThrottle(5),
      settings: { minExpires: 60, maxExpires: 3600, defaultExpires: 3600, nodeId: 'test' },
    });
    const flood = '192.0.2.88';
    const challenges = await Promise.all(Array.from({ length: 40 }, () => r.handleRegister(register({}), source(flood))));
    const answers = await Promise.all(challenges.map((c, i) => r.handleRegister(register({ authorization: answer(c, 'MD5', 'guess' + i) }), source(flood))));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 403));
    expect(answers.filter((a) => a.reason === 'Forbidden')).toHaveLength(5);
    expect(answers.filter((a) => a.reason === 'Too Many Failed Attempts')).toHaveLength(35);
    // The right password too is refused now, before any check; a first REGISTER is still challenged (the address is below its ceiling).
    const c = await r.handleRegister(register({}), source(flood));
    expect(c.status).toBe(401);
    const late = await r.handleRegister(register({ authorization: answer(c, 'MD5', device.password) }), source(flood));
    expect(late.reason).toBe('Too Many Failed Attempts');
  });

  it('gives the slot back for a right password: a phone that registers often is never throttled', async () => {
    const r = new Registrar({
      auth,
      credentials: new CredentialCache((u) => findSipDeviceCredential(db, u)),
      store,
      throttle: new AuthThrottle(2),
      settings: { minExpires: 60, maxExpires: 3600, defaultExpires: 3600, nodeId: 'test' },
    });
    const office = '192.0.2.89';
    const c0 = await r.handleRegister(register({}), source(office));
    expect((await r.handleRegister(register({ authorization: answer(c0, 'MD5', 'typo') }), source(office))).reason).toBe('Forbidden');
    for (let i = 0; i < 5; i++) {
      const c = await r.handleRegister(register({}), source(office));
      expect((await r.handleRegister(register({ callId: `reg-often-${i}`, authorization: answer(c, 'MD5', device.password) }), source(office))).status).toBe(200);
    }
    await store.removeAll(device.extensionId);
  });

  it('refuses a replayed (nonce, nc) pair on another registrar thread or node, and a nonce without qop twice', async () => {
    // Two authorities with the same secret and the same Redis: two registrar threads, or two nodes.
    const secret = randomBytes(32);
    const [a, b] = [0, 1].map(() => new DigestAuthority({ realm: REALM, ttlSeconds: 300, secret, nonces: new NonceLedger(redis, `${prefix}nonce:`) }));
    const credential = await findSipDeviceCredential(db, device.username);
    const nonce = a!.newNonce();
    const ha1 = credential!.ha1Md5;
    const ha2 = digestHash('MD5', `REGISTER:sip:${REALM}`);
    const withQop = { username: device.username, realm: REALM, nonce, uri: `sip:${REALM}`, algorithm: 'MD5' as const, qop: 'auth', nc: '00000001', cnonce: 'c1', opaque: null, response: digestHash('MD5', `${ha1}:${nonce}:00000001:c1:auth:${ha2}`) };
    expect(await a!.verify(withQop, 'REGISTER', ha1)).toBe('ok');
    expect(await b!.verify(withQop, 'REGISTER', ha1)).toBe('stale');
    expect(await a!.verify(withQop, 'REGISTER', ha1)).toBe('stale');
    // The next count of the same nonce is fine (RFC 7616 §3.3).
    const second = { ...withQop, nc: '00000002', response: digestHash('MD5', `${ha1}:${nonce}:00000002:c1:auth:${ha2}`) };
    expect(await b!.verify(second, 'REGISTER', ha1)).toBe('ok');
    // RFC 2069 style, no qop: the nonce is good once, whatever nc the replay adds.
    const bare = a!.newNonce();
    const noQop = { ...withQop, nonce: bare, qop: null, nc: null, cnonce: null, response: digestHash('MD5', `${ha1}:${bare}:${ha2}`) };
    expect(await b!.verify(noQop, 'REGISTER', ha1)).toBe('ok');
    expect(await a!.verify(noQop, 'REGISTER', ha1)).toBe('stale');
    expect(await a!.verify({ ...noQop, nc: '00000009' }, 'REGISTER', ha1)).toBe('stale');
  });

  it('stores only HA1 values for device credentials', async () => {
    const row = await db.selectFrom('devices').selectAll().where('sip_username', '=', device.username).executeTakeFirstOrThrow();
    expect(row.sip_ha1_md5).toMatch(/^[0-9a-f]{32}$/);
    expect(row.sip_ha1_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(device.password);
  });
});
