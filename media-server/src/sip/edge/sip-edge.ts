import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Config, Logger } from '@carillon/config';
import { findSipDeviceCredential, type SecretBox } from '@carillon/core';
import type { Db } from '@carillon/db';
import type { MediaEngine } from '../../media/index.ts';
import { AuthThrottle, sharedThrottle } from '../../registrar/auth-throttle.ts';
import { RegistrarThreads } from '../../registrar/registrar-threads.ts';
import { BindingStore } from '../../registrar/binding-store.ts';
import { CredentialCache } from '../../registrar/credential-cache.ts';
import { Registrar } from '../../registrar/registrar.ts';
import { createDialogEventNotifier, type DialogEventNotifier } from '../../registrar/park-dialog-events.ts';
import { createMessageWaitingNotifier, onVoicemailEvent, type MessageWaitingNotifier } from '../../registrar/message-waiting.ts';
import { MailboxPhoneAccess } from '../../calls/mailbox-phone-access.ts';
import { VOICEMAIL_EVENTS_CHANNEL } from '@carillon/contracts/voicemail-events';
import { CallEngine, type CallEngineDeps } from '../../calls/call-engine.ts';
import type { CallOwnership } from '../../calls/call-registry.ts';
import { VoicemailDeposits } from '../../calls/voicemail-deposits.ts';
import { createJobProducer, type JobProducer } from '@carillon/core/jobs';
import { ffmpegPath } from '@carillon/core/audio';
import { EspeakTtsEngine, TtsCache, ttsCacheDirectory } from '@carillon/core/ivr';
import { conferenceAccessSource } from '../../calls/conference-access-source.ts';
import type { CallEvents } from '../../calls/call-context.ts';
import { CallPresenceTracker } from '../../presence/call-presence.ts';
import { PRESENCE_CHANNEL } from '@carillon/contracts/presence';
import { ChallengeGate, statelessTag } from '../auth/challenge-gate.ts';
import { DigestAuthority } from '../auth/digest-challenge.ts';
import { NonceLedger } from '../auth/nonce-ledger.ts';
import { createResponse, type SipRequest, type SipResponse } from '../message/index.ts';
import { TransactionLayer, type InviteServerTransaction, type NonInviteServerTransaction } from '../transaction/index.ts';
import type { SessionSettings } from '../session/index.ts';
import { SipTransportLayer } from '../transport/sip-transport-layer.ts';
import type { SipSource, SipTransportProtocol } from '../transport/index.ts';

const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY, UPDATE, REGISTER';
/** With message-waiting indication (unreleased area 'voicemail'), SUBSCRIBE too. */
const ALLOW_WITH_SUBSCRIBE = `${ALLOW}, SUBSCRIBE`;
/** The SIP extensions (option tags) this edge implements, as the Supported header says. */
const SUPPORTED = ['replaces'];

export interface SipEdgeDeps {
  config: Config;
  db: Db;
  redis: Redis;
  media: MediaEngine;
  secrets: SecretBox;
  log: Logger;
  nodeId: string;
  /** Port overrides (0 = ephemeral) for tests and benchmarks; default from the config. */
  ports?: Partial<Record<SipTransportProtocol, number>>;
  /** Registrar threads; default from SIP_REGISTRAR_THREADS. */
  registrarThreads?: number;
  /** Lifetime of cached device credentials (benchmarks measure 0, every REGISTER reading the database). */
  credentialTtlMs?: number;
  timers?: { T1?: number };
  /** The session layer's glare unit, session-timer second and Min-SE (sip/session); tests shorten them. */
  session?: Partial<Omit<SessionSettings, 'T1' | 'T2'>>;
  noAnswerSeconds?: number;
  /** How long a parked call waits before it rings back its parker (issue 15, PK-01); PARK_RECALL_SECONDS when absent. */
  parkRecallSeconds?: number;
  /** How often a waiting queue caller looks for a free member (ms; the queue application's 250 when absent); tests lengthen it. */
  queuePollMs?: number;
  /** How long the IVR waits for a key after a prompt (ms; the IVR application's NO_INPUT_MS when absent); tests shorten it. */
  ivrNoInputMs?: number;
  /** Calls at once before a new INVITE gets 503 (default 10,000; tests set it low). */
  maxCalls?: number;
  events?: CallEvents;
  /** Where the node records the calls it owns, for the control channel (control/call-ownership.ts). */
  ownership?: CallOwnership;
  /** Where the node tells its conferences (control/conference-ownership.ts), for the hosts' consoles. */
  conferenceEvents?: CallEngineDeps['conferenceEvents'];
  /** The clock applications read hours at (a call queue's business hours); tests set it. */
  now?: () => Date;
}

/**
 * The SIP edge of media-server: transports, transactions, the registrar and
 * the call engine, wired together. Every request goes through `dispatch`.
 */
export class SipEdge {
  readonly transport: SipTransportLayer;
  readonly transactions: TransactionLayer;
  readonly registrar: Registrar;
  readonly calls: CallEngine;
  readonly bindings: BindingStore;
  readonly address: string;
  /** What this node's calls do to extensions' presence, refreshed with the heartbeat. */
  readonly presence: CallPresenceTracker;
  /** Null when REGISTERs are all answered on the main thread. */
  readonly registrarThreads: RegistrarThreads | null;
  private readonly log: Logger;
  private readonly credentials: CredentialCache;
  /** Enqueues the transcriptions of voicemail messages. */
  private readonly jobs: JobProducer;
  /**
   * Message-waiting indication (RFC 3842), with its own Redis subscriber connection for the
   * voicemail events. Null unless the unreleased area 'voicemail' is enabled: SUBSCRIBE then gets 405, as before.
   */
  readonly messageWaiting: MessageWaitingNotifier | null;
  /** Busy lamps of park locations (RFC 4235 dialog events), with the unreleased area 'park'; null otherwise. */
  readonly parkKeys: DialogEventNotifier | null;
  private readonly stopWatchingParkLot: () => void;
  private readonly voicemailEvents: Redis | null;

  private constructor(parts: { transport: SipTransportLayer; transactions: TransactionLayer; registrar: Registrar; calls: CallEngine; bindings: BindingStore; address: string; log: Logger; presence: CallPresenceTracker; registrarThreads: RegistrarThreads | null; credentials: CredentialCache; jobs: JobProducer; messageWaiting: MessageWaitingNotifier | null; voicemailEvents: Redis | null; parkKeys: DialogEventNotifier | null }) {
    this.messageWaiting = parts.messageWaiting;
    this.parkKeys = parts.parkKeys;
    const keys = parts.parkKeys;
    const unwatchLot = keys && parts.calls.parking ? parts.calls.parking.watch((accountId, location) => keys.changed(accountId, { kind: 'park', location })) : () => undefined;
    const unwatchPresence = keys ? parts.presence.watch((accountId, extensionId) => keys.changed(accountId, { kind: 'user', extensionId })) : () => undefined;
    this.stopWatchingParkLot = () => {
      unwatchLot();
      unwatchPresence();
    };
    this.voicemailEvents = parts.voicemailEvents;
    this.jobs = parts.jobs;
    this.credentials = parts.credentials;
    this.registrarThreads = parts.registrarThreads;
    this.presence = parts.presence;
    this.transport = parts.transport;
    this.transactions = parts.transactions;
    this.registrar = parts.registrar;
    this.calls = parts.calls;
    this.bindings = parts.bindings;
    this.address = parts.address;
    this.log = parts.log;
  }

  static async start(deps: SipEdgeDeps): Promise<SipEdge> {
    const { config } = deps;
    const log = deps.log.child('sip');
    const address = advertisedAddress(config);
    const tls = config.SIP_TLS_CERT && config.SIP_TLS_KEY ? { cert: fs.readFileSync(config.SIP_TLS_CERT), key: fs.readFileSync(config.SIP_TLS_KEY) } : undefined;
    const ports = {
      UDP: config.SIP_UDP_PORT,
      TCP: config.SIP_TCP_PORT,
      WS: config.SIP_WS_PORT,
      ...(tls ? { TLS: config.SIP_TLS_PORT, WSS: config.SIP_WSS_PORT } : {}),
      ...deps.ports,
    };
    const threadCount = ports.UDP !== undefined && config.REDIS_URL ? registrarThreadCount(deps.registrarThreads ?? config.SIP_REGISTRAR_THREADS) : 0;
    const transport = new SipTransportLayer({
      host: config.SIP_HOST,
      udpPort: ports.UDP,
      ...(threadCount > 0 ? { udpReusePort: 'lead' as const } : {}),
      tcpPort: ports.TCP,
      wsPort: ports.WS,
      ...(tls ? { tlsPort: ports.TLS, wssPort: ports.WSS, tls } : {}),
      logger: log.child('transport'),
    });
    await transport.start();
    const transactions = new TransactionLayer(transport, {
      via: { host: address, ports: transport.ports },
      ...(deps.timers ? { timers: deps.timers } : {}),
      logger: log.child('transaction'),
    });

    const nonceSecret = await sharedNonceSecret(deps.redis);
    const auth = new DigestAuthority({
      realm: config.SIP_DOMAIN,
      ttlSeconds: config.SIP_NONCE_TTL_SECONDS,
      algorithms: config.SIP_DIGEST_ALGORITHMS,
      secret: nonceSecret,
      nonces: new NonceLedger(deps.redis),
    });
    const findCredential = (username: string) => findSipDeviceCredential(deps.db, username);
    const credentials = new CredentialCache(findCredential, deps.credentialTtlMs);
    const failures = new AuthThrottle(config.SIP_AUTH_FAILURES_PER_MINUTE);
    let registrarThreads: RegistrarThreads | null = null;
    // With registrar threads, a password check admitted here also counts in their copies (and theirs here).
    const throttle = sharedThrottle(failures, {
      taken: (slot) => registrarThreads?.slotTaken(slot),
      givenBack: (slot) => registrarThreads?.slotGivenBack(slot),
    });
    const registrarSettings = { minExpires: config.SIP_REGISTER_MIN_EXPIRES, maxExpires: config.SIP_REGISTER_MAX_EXPIRES, defaultExpires: config.SIP_REGISTER_MAX_EXPIRES, nodeId: deps.nodeId };
    const bindings = new BindingStore(deps.redis);
    const registrar = new Registrar({
      auth,
      credentials,
      store: bindings,
      throttle,
      settings: registrarSettings,
      events: { onBindingsChanged: ({ accountId }) => void deps.redis.publish(PRESENCE_CHANNEL, accountId).catch(() => undefined) },
    });
    const presence = new CallPresenceTracker(deps.redis, deps.nodeId, log.child('presence'));
    // A node restarting under the same id starts with no calls: what its last run left is wrong now.
    await presence.reset();
    const localContact = (t: SipTransportProtocol) => ({ host: address, port: transport.ports[t] ?? transport.ports.UDP ?? 5060 });
    const jobs = createJobProducer(deps.redis, config.QUEUE_PREFIX);
    // Applications' prompts: synthesised once per text and language, in the cache the app's IVR prompts use.
    const tts = new TtsCache(new EspeakTtsEngine(), ttsCacheDirectory(config.dataDir));
    const calls = new CallEngine({
      mailboxes: new VoicemailDeposits({ db: deps.db, publish: (channel, message) => deps.redis.publish(channel, message), dataDir: config.dataDir, jobs, log: log.child('voicemail') }),
      speak: async (text, language) => (await tts.speak(text, language)).file,
      unreleased: config.ENABLE_UNRELEASED,
      redis: deps.redis,
      ...(config.ENABLE_UNRELEASED.includes('voicemail')
        ? { mailboxAccess: new MailboxPhoneAccess({ db: deps.db, redis: deps.redis, publish: (channel, message) => deps.redis.publish(channel, message), dataDir: config.dataDir, ffmpeg: ffmpegPath(config.FFMPEG_PATH), jobs, log: log.child('mailbox') }) }
        : {}),
      ...(config.ENABLE_UNRELEASED.includes('conference') ? { conferenceAccess: conferenceAccessSource(deps.db, deps.redis) } : {}),
      db: deps.db,
      log,
      transactions,
      media: deps.media,
      bindings,
      auth,
      credentials,
      throttle,
      secrets: deps.secrets,
      domain: config.SIP_DOMAIN,
      localContact,
      recordingsDir: path.join(config.dataDir, 'recordings'),
      dataDir: config.dataDir,
      settings: { ...(deps.noAnswerSeconds ? { noAnswerSeconds: deps.noAnswerSeconds } : {}), parkRecallSeconds: deps.parkRecallSeconds ?? config.PARK_RECALL_SECONDS, ...(deps.maxCalls !== undefined ? { maxCalls: deps.maxCalls } : {}), ...(deps.queuePollMs ? { queuePollMs: deps.queuePollMs } : {}), ...(deps.ivrNoInputMs ? { ivrNoInputMs: deps.ivrNoInputMs } : {}), ...(deps.session ? { session: deps.session } : {}) },
      ...(deps.events ? { events: deps.events } : {}),
      ...(deps.ownership ? { ownership: deps.ownership } : {}),
      ...(deps.conferenceEvents ? { conferenceEvents: deps.conferenceEvents } : {}),
      ...(deps.now ? { now: deps.now } : {}),
      presence,
      nodeId: deps.nodeId,
    });
    if (threadCount > 0 && config.REDIS_URL && transport.ports.UDP !== undefined) {
      registrarThreads = await RegistrarThreads.start(
        {
          init: {
            host: config.SIP_HOST,
            udpPort: transport.ports.UDP,
            via: { host: address, ports: transport.ports },
            redisUrl: config.REDIS_URL,
            realm: config.SIP_DOMAIN,
            nonceTtlSeconds: config.SIP_NONCE_TTL_SECONDS,
            algorithms: config.SIP_DIGEST_ALGORITHMS,
            nonceSecret,
            challengesPerSourcePerSecond: config.SIP_CHALLENGES_PER_SOURCE_PER_SECOND,
            authFailuresPerMinute: config.SIP_AUTH_FAILURES_PER_MINUTE,
            credentialTtlMs: credentials.ttlMs,
            registrar: registrarSettings,
            ...(deps.timers?.T1 !== undefined ? { t1Ms: deps.timers.T1 } : {}),
            logLevel: config.LOG_LEVEL,
          },
          findCredential,
          throttle: failures,
          receiveDatagram: (data, from) => transport.receiveDatagram(data, from),
          log,
        },
        threadCount,
      );
    }
    // Known before the first INVITE, so that none waits for the database (see ChallengeGate). Until
    // it is known (the database not ready yet), a new INVITE takes the stateful path: start anyway.
    await calls.reloadTrunks().catch((err: unknown) => log.warn('trunk directory not loaded at start', { error: err }));
    const gate = new ChallengeGate({ auth, throttle, perSourcePerSecond: config.SIP_CHALLENGES_PER_SOURCE_PER_SECOND, isTrunk: (a) => calls.isTrunkAddressNow(a) });
    transactions.setStatelessFilter((req, source) => refuseNewInviteContent(req) ?? gate.answer(req, source));
    let messageWaiting: MessageWaitingNotifier | null = null;
    let voicemailEvents: Redis | null = null;
    if (config.ENABLE_UNRELEASED.includes('voicemail')) {
      messageWaiting = createMessageWaitingNotifier({
        auth,
        credentials,
        throttle,
        db: deps.db,
        transactions,
        localContact: (source) => `<sip:${address}:${localContact(source.transport).port};transport=${source.transport.toLowerCase()}>`,
        settings: { minExpires: config.SIP_REGISTER_MIN_EXPIRES, maxExpires: config.SIP_REGISTER_MAX_EXPIRES, limits: { perDevice: 4, total: 20_000 } },
        log: log.child('message-waiting'),
      });
      // A subscriber connection of its own (ioredis: a subscribed connection runs no other command).
      voicemailEvents = deps.redis.duplicate();
      const notifier = messageWaiting;
      voicemailEvents.on('message', (channel: string, message: string) => {
        if (channel === VOICEMAIL_EVENTS_CHANNEL) onVoicemailEvent(notifier, message);
      });
      await voicemailEvents.subscribe(VOICEMAIL_EVENTS_CHANNEL);
    }
    const parkKeys = calls.parking
      ? createDialogEventNotifier({
          auth,
          credentials,
          throttle,
          db: deps.db,
          transactions,
          localContact: (source) => `<sip:${address}:${localContact(source.transport).port};transport=${source.transport.toLowerCase()}>`,
          settings: { minExpires: config.SIP_REGISTER_MIN_EXPIRES, maxExpires: config.SIP_REGISTER_MAX_EXPIRES, limits: { perDevice: 8, total: 20_000 } },
          occupancy: calls.parking,
          activity: (accountId, extensionId) => presence.activity(accountId, extensionId),
          domain: config.SIP_DOMAIN,
          log: log.child('park-keys'),
        })
      : null;
    const edge = new SipEdge({ transport, transactions, registrar, calls, bindings, address, log, presence, registrarThreads, credentials, jobs, messageWaiting, voicemailEvents, parkKeys });
    transactions.onRequest((req, tx, source) => void edge.dispatch(req, tx, source));
    transport.on('connectionclose', (source) => {
      if (source.connectionId !== undefined) void registrar.connectionClosed(source.connectionId).catch((err: unknown) => log.warn('bindings of a closed connection not removed', { error: err }));
    });
    transactions.onAck((ack) => calls.handleAck(ack));
    transactions.onCancel((cancel, cancelTx, inviteTx) => calls.handleCancel(cancel, cancelTx, inviteTx));
    transactions.onStrayResponse((res) => calls.handleStrayResponse(res));
    log.info('SIP edge listening', { address, ports: transport.ports, domain: config.SIP_DOMAIN });
    return edge;
  }

  /**
   * The app changed an account's configuration (contracts/config-changes.ts):
   * drop what this node cached of it, here and in the registrar threads, so the
   * next call or REGISTER reads it anew. Credentials not found are dropped too:
   * the change may have created the device they were asked for.
   */
  invalidateAccountConfig(accountId: string, subjects: readonly string[]): void {
    this.calls.invalidateAccount(accountId, subjects);
    if (subjects.includes('devices') || subjects.includes('extensions')) {
      this.credentials.invalidateWhere((value) => value === null || value.accountId === accountId);
      this.registrarThreads?.invalidateCredentials(accountId);
    }
  }

  private async dispatch(req: SipRequest, tx: InviteServerTransaction | NonInviteServerTransaction, source: SipSource): Promise<void> {
    try {
      // RFC 3261 §8.2.2.3: an extension the request requires and we lack MUST get a 420 listing it.
      const unsupported = req.getAll('require').filter((tag) => !SUPPORTED.includes(tag.toLowerCase()));
      if (unsupported.length) {
        tx.respond(createResponse(req, 420).add('unsupported', unsupported.join(', ')));
        return;
      }
      switch (req.method) {
        case 'REGISTER':
          tx.respond(await this.registrar.handleRegister(req, source));
          return;
        case 'INVITE': {
          const refusal = refuseInviteContent(req);
          if (refusal) {
            tx.respond(refusal);
            return;
          }
          await this.calls.handleInvite(req, tx as InviteServerTransaction, source);
          return;
        }
        case 'OPTIONS':
          if (req.to()?.params.get('tag')) {
            await this.calls.handleInDialog(req, tx);
            return;
          }
          tx.respond(createResponse(req, 200).add('allow', this.messageWaiting || this.parkKeys ? ALLOW_WITH_SUBSCRIBE : ALLOW).add('accept', 'application/sdp').add('supported', SUPPORTED.join(', ')));
          return;
        case 'BYE':
        case 'INFO':
        case 'UPDATE':
        case 'REFER':
        case 'NOTIFY':
          await this.calls.handleInDialog(req, tx);
          return;
        case 'SUBSCRIBE': {
          // By event package (RFC 6665 §8.2.4): dialog (busy lamps, area 'park'), message-summary (area 'voicemail').
          const notifiers = [this.parkKeys, this.messageWaiting].filter((n) => n !== null);
          if (notifiers.length === 0) {
            tx.respond(createResponse(req, 405).add('allow', ALLOW));
            return;
          }
          const event = (req.get('event') ?? '').split(';')[0]!.trim().toLowerCase();
          const notifier = notifiers.find((n) => n.event === event);
          // A package we do not serve gets 489, listing the ones we do.
          if (!notifier) tx.respond(createResponse(req, 489).add('allow-events', notifiers.map((n) => n.event).join(', ')));
          else await notifier.handleSubscribe(req, tx as NonInviteServerTransaction, source);
          return;
        }
        default:
          tx.respond(createResponse(req, 405).add('allow', this.messageWaiting || this.parkKeys ? ALLOW_WITH_SUBSCRIBE : ALLOW));
      }
    } catch (err) {
      this.log.error('request failed', { method: req.method, error: err });
      if (tx.canRespond) tx.respond(createResponse(req, 500));
    }
  }

  async stop(): Promise<void> {
    this.messageWaiting?.stop();
    this.stopWatchingParkLot();
    this.parkKeys?.stop();
    await this.voicemailEvents?.quit().catch(() => this.voicemailEvents?.disconnect());
    await this.registrarThreads?.stop();
    await this.calls.stop();
    await this.jobs.close().catch((err: unknown) => this.log.warn('job queues not closed cleanly', { error: err }));
    this.transactions.close();
    await this.transport.stop();
  }
}

/**
 * An INVITE whose body is not SDP gets 415 with what is accepted (RFC 3261
 * §8.2.3, RFC 4475 §3.3.6); one whose Accept rules out the SDP answer gets 406
 * (RFC 3261 §21.4.7, RFC 4475 §3.3.15).
 */
function refuseInviteContent(req: SipRequest, toTag?: string): SipResponse | null {
  const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  // Only a declared type other than SDP is refused: a body without one is left to the call engine, as before.
  if (req.body.length > 0 && type && type !== 'application/sdp') return createResponse(req, 415, { toTag }).add('accept', 'application/sdp');
  const accepted = req.getAll('accept').map((a) => a.split(';')[0]!.trim().toLowerCase());
  if (accepted.length && !accepted.some((a) => a === 'application/sdp' || a === 'application/*' || a === '*/*')) return createResponse(req, 406, { toTag }).add('accept', 'application/sdp');
  return null;
}

/**
 * A new INVITE whose content we could never take is refused before its caller
 * is asked for credentials, statelessly like the challenge it would otherwise
 * get (same To tag for a retransmission, RFC 3261 §8.2.7): asking for a
 * password to then refuse the body anyway helps nobody.
 */
function refuseNewInviteContent(req: SipRequest): SipResponse | null {
  if (req.method !== 'INVITE' || req.to()?.params.get('tag')) return null;
  return refuseInviteContent(req, statelessTag(req));
}

/** One nonce secret for every node, so a nonce issued by one can be checked by another. */
async function sharedNonceSecret(redis: Redis): Promise<Buffer> {
  const key = 'carillon:sip:nonce-secret';
  await redis.set(key, randomBytes(32).toString('hex'), 'NX');
  const hex = await redis.get(key);
  return Buffer.from(hex ?? randomBytes(32).toString('hex'), 'hex');
}

/** "auto": one thread per core beyond the first, at most 4. */
function registrarThreadCount(setting: number | 'auto'): number {
  return setting === 'auto' ? Math.min(4, Math.max(0, os.availableParallelism() - 1)) : setting;
}

function advertisedAddress(config: Config): string {
  if (config.SIP_PUBLIC_ADDRESS) return config.SIP_PUBLIC_ADDRESS;
  if (config.SIP_HOST !== '0.0.0.0') return config.SIP_HOST;
  for (const list of Object.values(os.networkInterfaces())) {
    for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return i.address;
  }
  return '127.0.0.1';
}
