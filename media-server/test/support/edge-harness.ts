import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createLogger, loadConfig } from '@carillon/config';
import { createAccount, issueDeviceCredentials, predefinedRoleId, secretBox } from '@carillon/core';
import type { Database, Db } from '@carillon/db';
import type { Selectable } from 'kysely';
import { freshDb, redisClient, redisUrl } from '../../../tests/support/env.ts';
import { MediaEngine } from '../../src/media/index.ts';
import { AliasNode, RawNode, TableNode, type OperationNode } from 'kysely';
import type { ConfigSubject } from '@carillon/contracts/config-changes';
import { SipEdge, type SipEdgeDeps } from '../../src/sip/edge/sip-edge.ts';
import type { B2buaCall } from '../../src/calls/b2bua/b2bua-call.ts';
import { freeSipPort } from './sipp.ts';

export interface TestPhone {
  extension: string;
  extensionId: string;
  username: string;
  password: string;
  deviceId: string;
}

export interface EdgeHarness {
  db: Db;
  redis: Redis;
  edge: SipEdge;
  media: MediaEngine;
  accountId: string;
  mainNumber: string;
  port: number;
  target: string;
  phones: Map<string, TestPhone>;
  /** Calls as they end, with their last media figures. */
  ended: { call: B2buaCall; result: string }[];
  /** Hold and resume as the call engine saw them. */
  holds: { side: 'a' | 'b'; held: boolean }[];
  addPhone(extension: string, opts?: { role?: 'standard' | 'standard_international' }): Promise<TestPhone>;
  /** Seals a secret with this edge's server key, as the app stores one (a trunk's password). */
  seal(plain: string): string;
  /**
   * What the app does after it changes an account's configuration (core's announceConfigChange):
   * tells the edge, which drops what it cached. A test that writes configuration rows itself calls it.
   */
  configChanged(...subjects: ConfigSubject[]): void;
  /**
   * The account's trunk to a carrier at `host` (SIPp playing it), trusted by that address, numbers in E.164:
   * stored, announced and loaded by the edge at once. Its SIP port (a free one) is returned.
   */
  addCarrierTrunk(host: string): Promise<number>;
  waitForEnded(count: number, ms?: number): Promise<void>;
  /** The account's newest call record, once media-server has written its result (it comes after the BYE). */
  lastCall(): Promise<Selectable<Database['calls']>>;
  stop(): Promise<void>;
  /**
   * Until `until` settles, the answer of every edge query reading `table` waits for it (null: no longer):
   * a test that must act between a query and what the edge does next (a CANCEL before an answer) makes room for it.
   */
  holdReads(table: string, until: (() => Promise<void>) | null): void;
  /** What the edge sent to the database so far, by kind of statement and the tables read (the edge's own queries only, not the test's). */
  statements: { select: number; write: number; selectsFrom: Record<string, number>; writesTo: Record<string, number> };
}

/**
 * A SIP edge in this process on a real PGlite database and the real Redis,
 * with ephemeral ports: SIPp and baresip talk to it over loopback.
 * `registrarThreads` defaults to 1, as the product runs on a 2-core machine: a phone's socket then
 * lands on the main thread or on the thread, as the kernel hashes it, so every SIP test also goes
 * through the passing of datagrams from a registrar thread to the main thread.
 */
export async function startEdge(opts: {
  noAnswerSeconds?: number;
  authFailuresPerMinute?: number;
  registrarThreads?: number;
  t1Ms?: number;
  maxCalls?: number;
  session?: SipEdgeDeps['session'];
  unreleased?: string;
  parkRecallSeconds?: number;
  /** How often a waiting queue caller looks for a free member (ms): a test lengthens it to see what does not wait for a look. */
  queuePollMs?: number;
  /** How long the IVR waits for a key after a prompt (ms): a test shortens the product's 5 s to hear its no-input rule sooner. */
  ivrNoInputMs?: number;
  /** RTP ports of the media engine: 100 (25 calls of 4) unless a test or bench asks for more. */
  rtpPorts?: number;
  /** The media engine's RTP inactivity timeouts (MediaEngineOptions); the engine's defaults (60 s, an hour on hold) otherwise. */
  mediaTimeoutMs?: number;
  heldMediaTimeoutMs?: number;
  /** The clock applications read hours at (a call queue's business hours, the company hours of the IVR): a test clock. */
  now?: () => Date;
  /**
   * A migrated database to run on instead of a fresh PGlite: a bench whose workers process must
   * read what the edge writes (voicemail deposits and their transcriptions) gives a PostgreSQL one.
   */
  db?: Db;
  /** DATA_DIR (recordings, voicemail messages): /tmp/carillon-tests unless given. */
  dataDir?: string;
  /** QUEUE_PREFIX of the jobs the edge enqueues (transcriptions): the product's default unless given. */
  queuePrefix?: string;
} = {}): Promise<EdgeHarness> {
  const db = opts.db ?? (await freshDb());
  const statements = { select: 0, write: 0, selectsFrom: {} as Record<string, number>, writesTo: {} as Record<string, number> };
  const held = new Map<string, () => Promise<void>>();
  const queryTables = new WeakMap<object, string[]>();
  // The edge's queries go through a counting plugin; the test's own (setup, checks) do not.
  const edgeDb = db.withPlugin({
    transformQuery: ({ node, queryId }) => {
      if (node.kind === 'SelectQueryNode') {
        statements.select++;
        const read: string[] = [];
        for (const from of node.from?.froms ?? []) {
          const source = AliasNode.is(from) ? from.node : from;
          const table = TableNode.is(source) ? source.table.identifier.name : from.kind;
          statements.selectsFrom[table] = (statements.selectsFrom[table] ?? 0) + 1;
          read.push(table);
        }
        // Joined tables are read too (not counted in selectsFrom, which says where a statement starts).
        for (const join of node.joins ?? []) {
          const source = AliasNode.is(join.table) ? join.table.node : join.table;
          if (TableNode.is(source)) read.push(source.table.identifier.name);
        }
        queryTables.set(queryId, read);
      } else {
        statements.write++;
        const target = node.kind === 'InsertQueryNode' ? node.into : node.kind === 'UpdateQueryNode' ? node.table : node.kind === 'DeleteQueryNode' ? node.from.froms[0] : undefined;
        // A raw statement (the call records' CTEs) names its tables in its text.
        const tables =
          node.kind === 'RawNode'
            ? [...new Set([...rawText(node).matchAll(/\b(?:INSERT INTO|UPDATE|DELETE FROM)\s+([a-z_]+)/gi)].map((m) => m[1]!))]
            : [target && TableNode.is(target) ? target.table.identifier.name : node.kind];
        for (const table of tables) statements.writesTo[table] = (statements.writesTo[table] ?? 0) + 1;
      }
      return node;
    },
    transformResult: async ({ result, queryId }) => {
      for (const table of queryTables.get(queryId) ?? []) await held.get(table)?.();
      return result;
    },
  });
  const redis = redisClient();
  const config = loadConfig({
    SIP_HOST: '127.0.0.1',
    SIP_DOMAIN: 'carillon.test',
    SIP_UDP_PORT: '0',
    SIP_TCP_PORT: '0',
    SIP_WS_PORT: '0',
    SIP_AUTH_FAILURES_PER_MINUTE: String(opts.authFailuresPerMinute ?? 30),
    SIP_REGISTRAR_THREADS: String(opts.registrarThreads ?? 1),
    // The media plane's packet I/O and SRTP (issue 12): MEDIA_NATIVE=on runs the SIP, baresip and browser suites on the addon.
    ...(process.env.MEDIA_NATIVE ? { MEDIA_NATIVE: process.env.MEDIA_NATIVE } : {}),
    REDIS_URL: redisUrl(),
    LOG_LEVEL: process.env.EDGE_LOG_LEVEL ?? 'warn',
    DATA_DIR: opts.dataDir ?? '/tmp/carillon-tests',
    ...(opts.queuePrefix ? { QUEUE_PREFIX: opts.queuePrefix } : {}),
    // Unreleased feature areas for this edge only (a test file of an unreleased feature enables its own).
    ...(opts.unreleased ? { ENABLE_UNRELEASED: opts.unreleased } : {}),
  });
  const base = 41000 + Math.floor(Math.random() * 200) * 100;
  const media = await MediaEngine.start({
    workers: 1,
    portRange: { min: base, max: base + Math.min(opts.rtpPorts ?? 100, 4000) - 1 },
    bindAddress: '127.0.0.1',
    packetIo: config.MEDIA_NATIVE,
    ...(opts.mediaTimeoutMs !== undefined ? { mediaTimeoutMs: opts.mediaTimeoutMs } : {}),
    ...(opts.heldMediaTimeoutMs !== undefined ? { heldMediaTimeoutMs: opts.heldMediaTimeoutMs } : {}),
  });
  const secrets = secretBox(randomBytes(32));
  const ended: { call: B2buaCall; result: string }[] = [];
  const holds: { side: 'a' | 'b'; held: boolean }[] = [];
  const edge = await SipEdge.start({
    config,
    db: edgeDb,
    redis,
    media,
    secrets,
    log: createLogger('edge-test', config.LOG_LEVEL),
    nodeId: 'test',
    noAnswerSeconds: opts.noAnswerSeconds ?? 20,
    ...(opts.t1Ms !== undefined ? { timers: { T1: opts.t1Ms } } : {}),
    ...(opts.maxCalls !== undefined ? { maxCalls: opts.maxCalls } : {}),
    ...(opts.parkRecallSeconds !== undefined ? { parkRecallSeconds: opts.parkRecallSeconds } : {}),
    ...(opts.queuePollMs !== undefined ? { queuePollMs: opts.queuePollMs } : {}),
    ...(opts.ivrNoInputMs !== undefined ? { ivrNoInputMs: opts.ivrNoInputMs } : {}),
    ...(opts.session ? { session: opts.session } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    events: { onEnded: (call, result) => ended.push({ call, result }), onHold: (_call, side, held) => holds.push({ side, held }) },
  });
  const mainNumber = `+1415555${String(1000 + Math.floor(Math.random() * 8999)).padStart(4, '0')}`;
  const acct = await createAccount(db, { company: 'Edge Co', email: `edge-${randomBytes(3).toString('hex')}@x.test`, mainNumber }, { activationTtlHours: 1 });
  const site = await db.selectFrom('sites').select('id').where('account_id', '=', acct.accountId).executeTakeFirstOrThrow();
  const phones = new Map<string, TestPhone>();
  const port = edge.transport.ports.UDP!;

  const harness: EdgeHarness = {
    db,
    redis,
    edge,
    media,
    accountId: acct.accountId,
    mainNumber,
    port,
    target: `127.0.0.1:${port}`,
    phones,
    statements,
    ended,
    holds,
    async addPhone(extension, o = {}) {
      let ext = await db.selectFrom('extensions').select('id').where('account_id', '=', acct.accountId).where('number', '=', extension).executeTakeFirst();
      if (!ext) {
        ext = await db.insertInto('extensions').values({ account_id: acct.accountId, site_id: site.id, number: extension, type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
        await db
          .insertInto('users')
          .values({ account_id: acct.accountId, extension_id: ext.id, role_id: await predefinedRoleId(db, o.role ?? 'standard_international'), first_name: `Ext${extension}`, email: `e${extension}-${randomBytes(3).toString('hex')}@x.test`, setup_progress: '{}' })
          .execute();
      }
      const creds = await issueDeviceCredentials(db, { userId: null, ip: null }, { accountId: acct.accountId, extensionId: ext.id, type: 'desk_phone', name: `Phone ${extension}`, realm: 'carillon.test' });
      const phone = { extension, extensionId: ext.id, username: creds.username, password: creds.password, deviceId: creds.deviceId };
      phones.set(extension, phone);
      edge.invalidateAccountConfig(acct.accountId, ['extensions', 'devices']);
      return phone;
    },
    seal: (plain) => secrets.seal(plain),
    holdReads(table, until) {
      if (until) held.set(table, until);
      else held.delete(table);
    },
    configChanged(...subjects) {
      edge.invalidateAccountConfig(acct.accountId, subjects);
    },
    async addCarrierTrunk(host) {
      const port = await freeSipPort(host);
      await db.insertInto('sip_trunks').values({ account_id: acct.accountId, name: 'Carrier', host, port, number_format: 'e164', inbound_addresses: JSON.stringify([host]) }).execute();
      edge.invalidateAccountConfig(acct.accountId, ['trunks']);
      // The edge reloads its trunks' addresses every 5 s; a test does not wait for that.
      await edge.calls.reloadTrunks();
      return port;
    },
    async lastCall() {
      // Every call over and its record complete (a call is written at its answer and its end, not at its start).
      for (let i = 0; i < 200 && (edge.calls.activeCalls > 0 || edge.calls.openCallRecords > 0); i++) await new Promise((r) => setTimeout(r, 50));
      for (let i = 0; ; i++) {
        const call = await db.selectFrom('calls').selectAll().where('account_id', '=', acct.accountId).orderBy('started_at', 'desc').executeTakeFirstOrThrow();
        if (call.result !== null || i >= 100) return call;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async waitForEnded(count, ms = 15_000) {
      const deadline = Date.now() + ms;
      while (ended.length < count) {
        if (Date.now() > deadline) throw new Error(`only ${ended.length} of ${count} calls ended`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      await edge.stop();
      await media.stop();
      for (const p of phones.values()) await redis.del(`carillon:reg:${p.extensionId}`);
      redis.disconnect();
    },
  };
  return harness;
}

/** The text of a raw statement with the raw statements composed into it (sql`` inside sql``). */
function rawText(node: OperationNode): string {
  if (!RawNode.is(node)) return '';
  return [...node.sqlFragments, ...node.parameters.map(rawText)].join(' ');
}
