import type { Kysely } from 'kysely';
import type { Redis } from 'ioredis';
import type { Logger } from '@carillon/config';
import { monitoringAllowed, sharedLineGroupCallerIds, type SecretBox } from '@carillon/core';
import type { Database } from '@carillon/db';
import type { MediaEngine } from '../media/index.ts';
import type { FailureThrottle } from '../registrar/auth-throttle.ts';
import type { BindingStore } from '../registrar/binding-store.ts';
import type { CredentialSource } from '../registrar/credential-cache.ts';
import { parseAuthorization, type DigestAuthority } from '../sip/auth/digest-challenge.ts';
import { answerChallenge } from '../sip/auth/digest-client.ts';
import { createResponse, type SipRequest, type SipResponse } from '../sip/message/index.ts';
import { ackRoutes, type SessionSettings } from '../sip/session/index.ts';
import { acceptCancel, type InviteServerTransaction, type NonInviteServerTransaction, type TransactionLayer } from '../sip/transaction/index.ts';
import type { SipSource, SipTransportProtocol } from '../sip/transport/index.ts';
import { B2buaCall, CallEndedError } from './b2bua/b2bua-call.ts';
import { CallRegistry, type CallOwnership } from './call-registry.ts';
import type { CallContext, CallEvents, CallParty } from './call-context.ts';
import { CallRecords, type EndedCall } from './call-records.ts';
import { CALL_RECORDS_CHANNEL, type CallRecordEvent } from '@carillon/contracts/call-records-events';
import { loadAccountConfig } from '../routing/account-config.ts';
import { AccountConfigCache, type AccountConfigCacheOptions } from '../routing/account-config-cache.ts';
import { callbackDestination, forwardingDestination, mailboxCallBackDestination, routeCall, routeExtension } from '../routing/dial-plan.ts';
import { reject, type Destination, type RejectDestination, type TrunkTarget } from '../routing/destination.ts';
import { ParkLot } from './park-lot.ts';
import { applicationFor, callApplications, transferApplicationFor, withoutApplication, type ApplicationTable } from '../apps/applications.ts';
import type { Mailboxes } from '../apps/voicemail/mailboxes.ts';
import type { MailboxAccess } from '../apps/mailbox/mailbox-access.ts';
import { AppCall, type AppCallContext } from './app-call.ts';
import { watchAppCall } from './app-call-observers.ts';
import { TrunkDirectory } from './trunk-directory.ts';
import { UserAnsweringRules } from './user-answering-rules.ts';
import { PromptLibrary } from './prompt-library.ts';
import { stockMusicPath } from './stock-music.ts';
import { IvrMenusSource } from './ivr-menus-source.ts';
import { QueueDirectorySource } from './queue-directory-source.ts';
import { RedisQueueState } from './queue-state-redis.ts';
import { OriginatedCall, type OriginatedCallContext } from './originated-call.ts';
import { QueueCallbacks } from '../apps/queue/queue-callback.ts';
import { QueueWakeups } from '../apps/queue/queue-wakeups.ts';
import { reachTarget } from './binding-target.ts';
import type { CalleeDevice } from './app-call-bridge.ts';
import { RoomRegistry } from './room-registry.ts';
import { pagingGroupsSource } from './paging-groups-source.ts';
import { sharedLinesSource } from './shared-lines-source.ts';
import { conferenceDialIns } from '@carillon/core/conference';
import { ivrModeOf } from '@carillon/core/ivr';
import { Conferences, type ConferenceObserver } from '../apps/conference/conferences.ts';
import type { ConferenceAccess } from '../apps/conference/conference-access.ts';
import { staticAudioPath } from '../media/index.ts';
import type { CallPresenceTracker } from '../presence/call-presence.ts';

export interface CallEngineDeps {
  db: Kysely<Database>;
  log: Logger;
  transactions: TransactionLayer;
  media: MediaEngine;
  bindings: BindingStore;
  auth: DigestAuthority;
  credentials: CredentialSource;
  throttle: FailureThrottle;
  secrets: SecretBox;
  domain: string;
  localContact(transport: SipTransportProtocol): { host: string; port: number };
  recordingsDir: string;
  /** DATA_DIR: where the IVR prompts library keeps its audio (packages/core/src/ivr). */
  dataDir?: string;
  /** maxCalls: calls (and so dialogs) at once; a new INVITE past it gets 503 with Retry-After. */
  settings?: Partial<{ noAnswerSeconds: number; maxCalls: number; session: Partial<SessionSettings>; accountConfig: AccountConfigCacheOptions; parkRecallSeconds: number; queuePollMs: number; ivrNoInputMs: number; queueCallbackPollMs: number; queueCallbackRetryMs: number }>;
  events?: CallEvents;
  presence?: CallPresenceTracker;
  /** Kept on each call record (see closeCallsLeftOpen). */
  nodeId?: string;
  /** Told when a call starts and ends on this node, so that other services know where it lives (the control channel). */
  ownership?: CallOwnership;
  /** Mailboxes for the applications (calls/voicemail-deposits.ts); without them, no destination has an application (480 as before). */
  mailboxes?: Mailboxes;
  /**
   * The unreleased areas enabled on this node (ENABLE_UNRELEASED): 'answering_rules' sends calls to users to the user-answering
   * application, 'ivr' calls to IVR menus and company numbers to the IVR application, 'queues' calls to call queues to the
   * queue application (with Redis), 'paging' `*84` + a paging group to the paging application.
   */
  unreleased?: readonly string[];
  /** The conference bridge's access codes (calls/conference-access-source.ts): conference calls reach the application only with it and the area 'conference'. */
  conferenceAccess?: ConferenceAccess;
  /** Where the conferences of this node are told (control/conference-ownership.ts: the owner key and the events for the hosts' consoles). */
  conferenceEvents?: ConferenceObserver;
  /** Mailboxes by phone (calls/mailbox-phone-access.ts): `*86` reaches the caller's mailbox only with it and the area 'voicemail'. */
  mailboxAccess?: MailboxAccess;
  /** The shared Redis: call queues' live state (unreleased area 'queues'), and park locations' (one call per location across nodes; unreleased area 'park'). */
  redis?: Redis;
  /** The clock applications read hours at (a call queue's business hours); tests set it. */
  now?: () => Date;
  /** Text to speech for applications' prompts: a media file (the TTS cache). */
  speak?: (text: string, language: 'en' | 'fr') => Promise<string>;
}

/**
 * The call side of the SIP edge: authenticates new INVITEs (devices by
 * digest, carriers by source address), starts a B2buaCall for each, and
 * hands every later request, ACK, CANCEL or stray response to its call.
 */
export class CallEngine {
  private readonly deps: CallEngineDeps;
  private readonly ctx: CallContext;
  private readonly trunks: TrunkDirectory;
  /** The calls live on this node (bridged, answered by an application, originated) and the Call-IDs that find them. */
  private readonly registry: CallRegistry<B2buaCall, AppCall, OriginatedCall>;
  private readonly originatedCtx: OriginatedCallContext;
  /** The queues' callbacks this node serves (with the queue application). */
  readonly queueCallbacks: QueueCallbacks | null = null;
  private readonly answeringRules: UserAnsweringRules | null;
  /** The accounts' prompts libraries, shared by the applications that play them. */
  private readonly prompts: PromptLibrary;
  private readonly ivrMenus: IvrMenusSource | null;
  private readonly queues: QueueDirectorySource | null;
  private readonly applications: ApplicationTable;
  /** Park locations and directed pickup (unreleased area 'park'); null: both are 480 as before. */
  readonly parking: ParkLot<B2buaCall | AppCall> | null;
  /** Call monitoring by code (unreleased area 'monitoring'); false: the codes get 480 'Call Monitoring Not Available'. */
  private readonly monitoring: boolean;
  private readonly appCtx: AppCallContext;
  /** The rooms application calls join (conferences), opened with their first member and closed with their last. */
  readonly rooms: RoomRegistry;
  /** The conferences in progress on this node (the area 'conference'), for the hosts' consoles; null without the area. */
  readonly conferences: Conferences | null;
  private readonly stopTrunkRefresh: () => void;
  /**
   * What the dial plan reads of each account (extensions, numbers, users' calling rights, trunk, settings),
   * in memory: dropped when the app announces a change, so the very next call sees it.
   */
  readonly accountConfigs: AccountConfigCache;

  constructor(deps: CallEngineDeps) {
    this.deps = deps;
    this.registry = new CallRegistry(deps.ownership ?? null);
    this.trunks = new TrunkDirectory(deps.db);
    this.stopTrunkRefresh = this.trunks.keepFresh();
    // Users' answering rules need mailboxes (voicemail after no answer) and the area enabled; otherwise calls to users are bridged as before.
    this.answeringRules = deps.mailboxes && deps.unreleased?.includes('answering_rules') ? new UserAnsweringRules(deps.db, (accountId) => this.accountConfigs.get(accountId)) : null;
    const usersAnswerByRules = this.answeringRules !== null;
    // Mailboxes by phone (*86) only where the area 'voicemail' is enabled; otherwise *86 stays an unknown feature code (404).
    const mailboxAccess = deps.mailboxes && deps.unreleased?.includes('voicemail') ? (deps.mailboxAccess ?? null) : null;
    const mailboxByPhone = mailboxAccess !== null;
    // Queue agents' keypad codes (*45, *46) where the queue application runs (the area 'queues', mailboxes and Redis).
    const queueAgentCodes = Boolean(deps.mailboxes && deps.redis && deps.unreleased?.includes('queues'));
    // The conference bridge only where the area 'conference' is enabled; otherwise dial-in numbers route as other numbers.
    const conference = deps.unreleased?.includes('conference') ?? false;
    this.conferences = conference && deps.conferenceAccess ? new Conferences(deps.conferenceEvents ?? null) : null;
    // The IVR application (below) runs where the area 'ivr' is enabled and mailboxes exist; there a single-level account's company number always reaches it (AR-01).
    const ivrArea = Boolean(deps.mailboxes && deps.unreleased?.includes('ivr'));
    // Shared lines (the area 'shared_lines', with mailboxes for their voicemail): the routing snapshot then holds the lines' group caller IDs (SL-08), and the dial plan sends a line's number to the shared-line application.
    const sharedLines = Boolean(deps.mailboxes && deps.unreleased?.includes('shared_lines'));
    this.accountConfigs = new AccountConfigCache(
      async (id) => {
        const loaded = await loadAccountConfig(deps.db, id);
        const config = loaded && ivrArea && (await ivrModeOf(deps.db, id)) === 'single' ? { ...loaded, companyGreeting: true } : loaded;
        const withFlags = config && (usersAnswerByRules || mailboxByPhone || queueAgentCodes) ? { ...config, usersAnswerByRules, mailboxByPhone, queueAgentCodes } : config;
        const withLines = withFlags && sharedLines ? { ...withFlags, sharedLineCallerIds: await sharedLineGroupCallerIds(deps.db, id) } : withFlags;
        return withLines && conference ? { ...withLines, conferenceNumbers: new Set(await conferenceDialIns(deps.db, id)) } : withLines;
      },
      deps.settings?.accountConfig,
    );
    const redis = deps.redis;
    const records = new CallRecords(deps.db, deps.nodeId ?? null, {
      onError: (err) => deps.log.error('ringing call record not written', { error: err }),
      // The workers read the ended call's rows for missed-call e-mails (contracts/call-records-events.ts).
      ...(redis ? { onEnded: (call: EndedCall) => publishCallEnded(redis, call, deps.log) } : {}),
    });
    this.monitoring = deps.unreleased?.includes('monitoring') ?? false;
    this.parking =
      deps.redis && deps.unreleased?.includes('park')
        ? new ParkLot<B2buaCall | AppCall>({ db: deps.db, redis: deps.redis, nodeId: deps.nodeId ?? 'media-server', log: deps.log.child('park'), ...(deps.settings?.parkRecallSeconds ? { recallSeconds: deps.settings.parkRecallSeconds } : {}) })
        : null;
    this.ctx = {
      log: deps.log,
      transactions: deps.transactions,
      media: deps.media,
      records,
      bindings: deps.bindings,
      domain: deps.domain,
      settings: { noAnswerSeconds: deps.settings?.noAnswerSeconds ?? 60 },
      ...(deps.settings?.session ? { sessionSettings: deps.settings.session } : {}),
      route: async (caller, dialed) =>
        routeCall(
          await this.accountConfigs.get(caller.accountId),
          caller.kind === 'device' ? { kind: 'device', accountId: caller.accountId, extensionId: caller.extensionId, deviceId: caller.deviceId } : caller,
          dialed,
        ),
      localContact: deps.localContact,
      trunkAuthorization: (trunk, request, challenge) => this.trunkAuthorization(trunk, request, challenge),
      registerFork: (callId, call) => this.registry.addBridgedDialog(callId, call),
      recordingsDir: deps.recordingsDir,
      ...(this.answeringRules ? { holdMusic: (accountId: string, extensionId: string) => this.userHoldMusic(accountId, extensionId) } : {}),
      recordingSettings: async (accountId) => {
        const account = (await this.accountConfigs.get(accountId))?.account;
        return { enabled: account?.onDemandRecording ?? false, language: account?.language ?? 'en' };
      },
      forget: (call) => this.registry.forgetBridged(call),
      events: withHoldPresence(deps.events ?? {}, deps.presence ?? null),
      presence: deps.presence ?? null,
      ...(this.parking ? { parking: this.parking } : {}),
      findDialog: (callId, tag1, tag2) => this.registry.findDialog(callId, tag1, tag2),
    };
    // The IVR application only where the area 'ivr' is enabled (and mailboxes exist: its keys reach them); otherwise 480 as before.
    // One prompts library per node for every application that plays its prompts (IVR, queues, shared lines).
    this.prompts = new PromptLibrary(deps.db, deps.dataDir ?? null);
    this.ivrMenus = ivrArea ? new IvrMenusSource(deps.db, this.accountConfigs, deps.dataDir ?? null, this.prompts) : null;
    // The queue application only where the area 'queues' is enabled (and mailboxes and Redis exist: its exit actions and shared state need them).
    this.queues =
      deps.mailboxes && deps.redis && deps.unreleased?.includes('queues')
        ? new QueueDirectorySource({ db: deps.db, redis: deps.redis, accounts: this.accountConfigs, bindings: deps.bindings, presence: deps.presence ?? null, nodeId: deps.nodeId ?? 'local', prompts: this.prompts })
        : null;
    const queueState = this.queues && deps.redis ? new RedisQueueState(deps.redis) : null;
    // One per node, shared by the queue application and the callback service: each wakes the other.
    const queueWakeups = new QueueWakeups();
    this.applications = deps.mailboxes
      ? callApplications({
          mailboxes: deps.mailboxes,
          ...(deps.now ? { now: deps.now } : {}),
          ...(this.queues && queueState ? { queues: { directory: this.queues, state: queueState, agents: this.queues, wakeups: queueWakeups, ...(deps.now ? { now: deps.now } : {}), ...(deps.settings?.queuePollMs ? { pollMs: deps.settings.queuePollMs } : {}) } } : {}),
          ...(this.answeringRules
            ? {
                answeringRules: this.answeringRules,
                forwarding: { forwardTo: async (from, e164, caller) => forwardingDestination(await this.accountConfigs.get(from.accountId), from, e164, caller) },
                music: stockMusicPath,
              }
            : {}),
          ...(this.ivrMenus ? { ivrMenus: this.ivrMenus, ...(deps.settings?.ivrNoInputMs ? { ivrNoInputMs: deps.settings.ivrNoInputMs } : {}) } : {}),
          ...(mailboxAccess
            ? {
                mailboxAccess,
                // Calling back a message's sender: as the mailbox's user dialling the number (routing/dial-plan.ts).
                mailboxCallBack: { destinationFor: async (mailbox, number) => mailboxCallBackDestination(await this.accountConfigs.get(mailbox.accountId), mailbox, number) },
              }
            : {}),
          // Paging only where the area 'paging' is enabled; otherwise a page gets 480 "Paging Not Available" as before.
          ...(deps.unreleased?.includes('paging') ? { paging: pagingGroupsSource(deps.db) } : {}),
          ...(sharedLines
            ? {
                sharedLines: {
                  lines: sharedLinesSource(deps.db, this.prompts),
                  // SL-07 after hours "unconditional forwarding" to an outside number: as a user's forwarding (the line's number asserted, the caller's ID kept where the trunk allows).
                  forwarding: { forwardTo: async (from, e164, caller) => forwardingDestination(await this.accountConfigs.get(from.accountId), from, e164, caller) },
                },
              }
            : {}),
          ...(conference && deps.conferenceAccess && this.conferences ? { conference: { access: deps.conferenceAccess, conferences: this.conferences, music: staticAudioPath('hold-music.wav'), recordings: { records, dir: deps.recordingsDir, log: deps.log.child('conference') } } } : {}),
        })
      : {};
    this.rooms = new RoomRegistry(deps.media);
    this.appCtx = {
      log: deps.log,
      ...(this.answeringRules ? { holdMusic: (accountId: string, extensionId: string) => this.userHoldMusic(accountId, extensionId) } : {}),
      transactions: deps.transactions,
      media: deps.media,
      ...(deps.settings?.session ? { sessionSettings: deps.settings.session } : {}),
      localContact: deps.localContact,
      openRecord: (call) => openAppCallRecord(records, call),
      language: async (accountId) => (await this.accountConfigs.get(accountId))?.account.language ?? 'en',
      speak: (text, language) => (deps.speak ? deps.speak(text, language) : Promise.reject(new Error('no text to speech on this node'))),
      recordingsDir: deps.recordingsDir,
      forget: (call) => this.registry.forgetApp(call),
      calleeDevices: async (extensionId) => {
        const devices: CalleeDevice[] = [];
        for (const b of await deps.bindings.list(extensionId)) {
          const target = reachTarget(b.contact, b.source);
          if (target) devices.push({ target, uri: b.contact, deviceId: b.deviceId });
        }
        return devices;
      },
      records,
      domain: deps.domain,
      registerFork: (callId, call) => this.registry.addAppDialog(callId, call),
      trunkAuthorization: (trunk, request, challenge) => this.trunkAuthorization(trunk, request, challenge),
      rooms: this.rooms,
      ...(this.parking
        ? {
            parking: {
              lot: this.parking,
              // As the agent (a user of the account) dials it: the account's own extension numbers.
              location: async (accountId: string, number: string) => {
                const d = routeExtension(await this.accountConfigs.get(accountId), accountId, number, 'internal');
                return d.kind === 'park' ? d : null;
              },
              parker: async (accountId: string, number: string) => {
                const d = routeExtension(await this.accountConfigs.get(accountId), accountId, number, 'internal');
                return d.kind === 'extension' ? d : null;
              },
            },
          }
        : {}),
      transferTarget: async (accountId, extensionNumber, direction) => {
        const destination = routeExtension(await this.accountConfigs.get(accountId), accountId, extensionNumber, direction);
        const app = transferApplicationFor(this.applications, destination);
        if (app) return { destination, app };
        const refusal = destination.kind === 'reject' ? destination : withoutApplication(destination);
        return refusal ? { status: refusal.status, reason: refusal.reason } : { status: 480, reason: 'Temporarily Unavailable' };
      },
    };
    this.originatedCtx = {
      log: deps.log,
      transactions: deps.transactions,
      ...(deps.settings?.session ? { sessionSettings: deps.settings.session } : {}),
      localContact: deps.localContact,
      media: deps.media,
      rooms: this.rooms,
      records,
      calleeDevices: this.appCtx.calleeDevices,
      domain: deps.domain,
      speak: this.appCtx.speak,
      registerFork: (callId, call) => this.registry.addAppDialog(callId, call),
      trunkAuthorization: (trunk, request, challenge) => this.trunkAuthorization(trunk, request, challenge),
      forget: (call) => this.registry.forgetOriginated(call),
    };
    if (this.queues && queueState) {
      const queues = this.queues;
      this.queueCallbacks = new QueueCallbacks({
        directory: queues,
        state: queueState,
        wakeups: queueWakeups,
        originator: {
          originate: (r) => this.originate({ accountId: r.accountId, from: { number: r.queueNumber, name: null, extensionId: r.queueId }, to: { number: r.toNumber, extensionId: r.toExtensionId }, direction: r.toExtensionId ? 'internal' : 'outbound' }),
          pstnTarget: async (accountId, queueId, number) => callbackDestination(await this.accountConfigs.get(accountId), accountId, queueId, number),
        },
        ...(deps.settings?.queueCallbackPollMs ? { pollMs: deps.settings.queueCallbackPollMs } : {}),
        ...(deps.settings?.queueCallbackRetryMs ? { retryAfterMs: deps.settings.queueCallbackRetryMs } : {}),
      });
      this.queueCallbacks.start();
    }
  }

  /**
   * A call no caller started (calls/originated-call.ts), in the account's language: its record is
   * written, it counts in activeCalls until closed, and the engine's stop closes it.
   */
  async originate(request: { accountId: string; from: { number: string; name: string | null; extensionId: string | null }; to: { number: string; extensionId: string | null }; direction: 'internal' | 'outbound' }): Promise<OriginatedCall> {
    const language = (await this.accountConfigs.get(request.accountId))?.account.language ?? 'en';
    const call = await OriginatedCall.open(this.originatedCtx, { ...request, language });
    this.registry.addOriginated(call);
    return call;
  }

  /** For the stateless challenge: whether an address is a trusted carrier's, null when not known without a lookup. */
  isTrunkAddressNow(address: string): boolean | null {
    return this.trunks.isTrunkNow(address);
  }

  /** Loads the trunks' addresses now (an INVITE is challenged statelessly only while they are known; kept fresh every 5 s). */
  reloadTrunks(): Promise<void> {
    return this.trunks.refresh();
  }

  /** Calls in progress on this node: bridged by the B2BUA, or answered by an application. */
  get activeCalls(): number {
    return this.registry.count;
  }

  /** The call of this node whose caller used this SIP Call-ID, for the control channel, whatever kind it is. */
  controlledCall(callId: string): B2buaCall | AppCall | null {
    return this.registry.byCallerCallId(callId);
  }

  /** Every call answered by an application, for tests, monitoring and shutdown. */
  applicationCalls(): AppCall[] {
    return this.registry.appCalls();
  }

  /** Calls whose record is not complete yet: a call's record is written after it has left activeCalls. */
  get openCallRecords(): number {
    return this.ctx.records.openCalls;
  }

  /** The call whose caller used this SIP Call-ID, while it is in progress on this node. */
  byCallId(callId: string): B2buaCall | null {
    return this.registry.bridged(callId);
  }

  /**
   * A user's hold music (§7.6, their call settings): a stock track, their own uploaded audio (the first
   * track when it is gone), or null when they turned it off. An extension without a user's settings (a
   * limited extension, a shared line's phone) plays the shipped hold music.
   */
  private async userHoldMusic(accountId: string, extensionId: string): Promise<string | null> {
    const music = (await this.answeringRules?.ofExtension(accountId, extensionId))?.answering.settings.holdMusic;
    if (!music) return staticAudioPath('hold-music.wav');
    if (!music.enabled) return null;
    if (music.audio.kind === 'music') return stockMusicPath(music.audio.track);
    return (await this.deps.mailboxes?.userRecording(accountId, extensionId, music.audio.audioId)) ?? stockMusicPath('acoustic');
  }

  /** Drops what this node cached of an account's configuration, after the app changed it (contracts/config-changes.ts). */
  invalidateAccount(accountId: string, subjects: readonly string[]): void {
    // Whatever changed, the account's routing snapshot is rebuilt on its next call: one reload per change is cheap, a stale route is not.
    this.accountConfigs.invalidate(accountId);
    this.answeringRules?.invalidate(accountId);
    this.ivrMenus?.invalidate(accountId);
    this.queues?.invalidate(accountId);
    this.prompts.invalidate(accountId);
    if (subjects.includes('trunks')) this.trunks.invalidate();
  }

  /** Every call in progress, for tests, monitoring and shutdown. */
  calls(): B2buaCall[] {
    return this.registry.bridgedCalls();
  }

  async handleInvite(req: SipRequest, tx: InviteServerTransaction, source: SipSource): Promise<void> {
    if (req.to()?.params.get('tag')) {
      await this.handleInDialog(req, tx);
      return;
    }
    if (this.registry.callerCallIdInUse(req.callId)) {
      // A second INVITE with the same Call-ID and no To tag is a loop or a merged request (§8.2.2.2).
      tx.respond(createResponse(req, 482));
      return;
    }
    const caller = await this.identify(req, tx, source);
    if (!caller) return;
    if (this.registry.load >= (this.deps.settings?.maxCalls ?? 10_000)) {
      // Bounded like every table a peer can grow: RFC 3261 §21.5.4, try again shortly.
      tx.respond(createResponse(req, 503, { reason: 'Too Many Calls' }).add('retry-after', 5));
      return;
    }
    // The dial plan first: the destination says which kind of call this is (bridged, or an application's).
    // A CANCEL meanwhile finds no call and is answered here (487); the call then sees it and ends as cancelled.
    let destination: Destination;
    this.registry.routingStarted(req.callId);
    try {
      destination = await this.ctx.route(caller, req.requestUri()?.user ?? '');
    } catch (err) {
      this.deps.log.error('call not routed', { error: err });
      if (tx.canRespond) tx.respond(createResponse(req, 500));
      return;
    } finally {
      this.registry.routingDone(req.callId);
    }
    if (this.parking && caller.kind === 'device' && (destination.kind === 'park' || destination.kind === 'pickup')) {
      // A member dialling a location or `*58` + extension takes a call that exists already; a refusal goes on as a rejected call (its record, its status).
      const taken = await this.takeByMember(req, tx, source, caller, destination);
      if (taken === true) return;
      destination = taken;
    }
    if (this.monitoring && caller.kind === 'device' && destination.kind === 'monitor') {
      const joined = await this.monitorCall(req, tx, source, caller, destination);
      if (joined === true) return;
      destination = joined;
    }
    if (destination.kind === 'shared_line' && caller.kind === 'device') {
      // SL-01: a device of the line dialling the line's number while a call is held on it takes that call.
      const line = destination;
      const held = this.registry.appCalls().find((c) => c.accountId === caller.accountId && c.destination.kind === 'shared_line' && c.destination.extensionId === line.extensionId && c.heldFor(caller));
      if (held) {
        await held.retrieveHeld(req, tx, source, caller);
        return;
      }
    }
    const app = applicationFor(this.applications, destination);
    if (app) {
      const call = new AppCall(this.appCtx, req, tx, source, caller, destination, app);
      this.registry.addApp(call);
      watchAppCall(call, { records: this.ctx.records, presence: this.deps.presence ?? null, log: this.deps.log });
      call.on('hold', (side, held) => this.ctx.events.onHold?.(call, side, held));
      call.on('parked', (location) => this.ctx.events.onParked?.(call, location));
      await call.start();
      return;
    }
    const call = new B2buaCall(this.ctx, req, tx, source, caller);
    this.registry.addBridged(call);
    try {
      await call.start(destination);
    } catch (err) {
      // Ended while it started (a CANCEL during routing): finish() is already releasing it.
      if (err instanceof CallEndedError) return;
      this.deps.log.error('call failed to start', { error: err });
      if (tx.canRespond) tx.respond(createResponse(req, 500));
      await call.finish('failed', null);
    }
  }

  /**
   * PK-01 and PU-01: a member's INVITE to a park location retrieves the call parked there; `*58` + an
   * extension picks up the call ringing there. Either joins the existing call (B2buaCall.takeIncoming):
   * true when it did, else the refusal as a destination (403 for a non-member, 404 when nothing is parked
   * or ringing there).
   */
  private async takeByMember(
    req: SipRequest,
    tx: InviteServerTransaction,
    source: SipSource,
    caller: Extract<CallParty, { kind: 'device' }>,
    destination: Extract<Destination, { kind: 'park' | 'pickup' }>,
  ): Promise<true | RejectDestination> {
    const parking = this.parking!;
    if (destination.kind === 'park') {
      if (!destination.slot || !destination.extensionId) return reject(480, 'Call Park Not Available', 'unavailable');
      const found = await parking.retrieve(caller.accountId, destination.slot, destination.extensionId, caller.extensionId);
      if ('refusal' in found) {
        if (found.refusal === 'not-a-member') return reject(403, 'Not A Park Location Member', 'forbidden');
        if (found.refusal === 'elsewhere') return reject(480, 'Parked On Another Node', 'unavailable');
        return reject(404, 'No Call Parked', 'not_found');
      }
      await found.call.takeIncoming('retrieve', req, tx, source, caller);
      return true;
    }
    if (!destination.targetExtensionId) return reject(404, 'Not Found', 'not_found');
    const targetId = destination.targetExtensionId;
    if (!(await parking.mayPickUp(caller.accountId, caller.extensionId, targetId))) return reject(403, 'Not In A Pickup Group', 'forbidden');
    // The oldest call ringing there: the one a receptionist would pick up first.
    const ringing = this.calls().find((c) => c.accountId === caller.accountId && c.ringingExtension?.extensionId === targetId);
    if (!ringing) return reject(404, 'Nothing To Pick Up', 'not_found');
    await ringing.takeIncoming('pickup', req, tx, source, caller);
    return true;
  }

  /**
   * MON-01: a monitoring code + an extension joins the call that extension is on (B2buaCall.monitor, or
   * AppCall.monitor for an application call bridged to that extension; both through CallMonitor):
   * true when it did, else the refusal as a destination (403 when no group lets this user monitor that
   * one, 404 when that user is on no call that can be monitored on this node).
   */
  private async monitorCall(
    req: SipRequest,
    tx: InviteServerTransaction,
    source: SipSource,
    caller: Extract<CallParty, { kind: 'device' }>,
    destination: Extract<Destination, { kind: 'monitor' }>,
  ): Promise<true | RejectDestination> {
    const target = destination.targetExtensionId;
    if (!(await monitoringAllowed(this.deps.db, caller.accountId, caller.extensionId, target))) return reject(403, 'Not A Monitor Of This User', 'forbidden');
    for (const call of this.calls()) {
      if (call.accountId !== caller.accountId) continue;
      const side = call.monitorableSide(target);
      if (!side) continue;
      await call.monitor(destination.mode, side, req, tx, source, caller);
      return true;
    }
    // A call answered by an application and bridged to the agent (a queue call, a call under answering rules).
    for (const call of this.registry.appCalls()) {
      if (call.accountId !== caller.accountId || !call.monitorable(target)) continue;
      await call.monitor(destination.mode, req, tx, source, caller);
      return true;
    }
    return reject(404, 'No Call To Monitor', 'not_found');
  }

  /** A carrier by its source address, or a device by its digest credentials (407 first, RFC 3261 §22.3). */
  private async identify(req: SipRequest, tx: InviteServerTransaction, source: SipSource): Promise<CallParty | null> {
    const trunk = await this.trunks.byAddress(source.remoteAddress);
    if (trunk) return { kind: 'trunk', accountId: trunk.accountId, trunkId: trunk.trunkId };
    const address = source.remoteAddress;
    const header = req.get('proxy-authorization');
    const creds = header ? parseAuthorization(header) : null;
    const refused = () => {
      tx.respond(createResponse(req, 403, { reason: 'Too Many Failed Attempts' }));
      return null;
    };
    const challenge = (stale: boolean) => {
      const res = createResponse(req, 407);
      for (const c of this.deps.auth.challenges(stale)) res.add('proxy-authenticate', c);
      tx.respond(res);
      return null;
    };
    if (!creds) return this.deps.throttle.isThrottled(address, null) ? refused() : challenge(false);
    // By user and address: one phone guessing wrong does not lock out the others behind the same NAT.
    // The check takes its slot before the lookup, so concurrent guesses cannot all pass it (see AuthThrottle).
    const attempt = this.deps.throttle.admit(address, creds.username);
    if (!attempt) return refused();
    const device = await this.deps.credentials.get(creds.username);
    const ha1 = device ? (creds.algorithm === 'MD5' ? device.ha1Md5 : device.ha1Sha256) : null;
    const verdict = await this.deps.auth.verify(creds, 'INVITE', ha1);
    // 'stale' means a right password with an old or reused nonce: not a failure either.
    if (verdict !== 'failed') attempt.succeeded();
    if (verdict === 'stale') return challenge(true);
    if (verdict !== 'ok' || !device) {
      tx.respond(createResponse(req, 403));
      return null;
    }
    return {
      kind: 'device',
      accountId: device.accountId,
      extensionId: device.extensionId,
      extensionNumber: device.extensionNumber,
      deviceId: device.deviceId,
      displayName: device.displayName,
    };
  }

  async handleInDialog(req: SipRequest, tx: NonInviteServerTransaction | InviteServerTransaction): Promise<void> {
    const appCall = this.registry.appByCallId(req.callId);
    if (appCall) {
      appCall.inDialog(req, tx);
      return;
    }
    const call = this.registry.bridgedByCallId(req.callId);
    if (!call) {
      tx.respond(createResponse(req, 481));
      return;
    }
    try {
      await call.inDialog(req, tx);
    } catch (err) {
      // The call ended while the request was handled (e.g. a transfer target being called).
      if (!(err instanceof CallEndedError)) throw err;
      if (tx.canRespond) tx.respond(createResponse(req, 481));
    }
  }

  /**
   * The ACK of a 2xx (ours to an INVITE or a re-INVITE, on either side of a call, a monitor's, a
   * taken-over call's): the session waiting for it, found in the ACK routes of the transaction layer
   * (sip/session/ack-routes.ts), stops retransmitting. No call routes ACKs: a session waits for its
   * ACK after its call has ended (a BYE held for it, RFC 3261 §15).
   */
  handleAck(ack: SipRequest): void {
    ackRoutes(this.deps.transactions).route(ack);
  }

  handleCancel(cancel: SipRequest, cancelTx: NonInviteServerTransaction, inviteTx: InviteServerTransaction): void {
    const appCall = this.registry.app(cancel.callId);
    if (appCall) {
      appCall.cancelByCaller(cancelTx);
      return;
    }
    const call = this.registry.bridged(cancel.callId);
    if (!call) {
      acceptCancel(cancelTx, inviteTx);
      return;
    }
    call.cancelByCaller(cancelTx);
  }

  handleStrayResponse(res: SipResponse): void {
    if (res.cseq.method === 'INVITE' && res.status >= 200 && res.status < 300) this.registry.appDialog(res.callId)?.receiveStrayResponse(res);
    if (res.cseq.method === 'INVITE' && res.status >= 200 && res.status < 300) this.registry.bridgedByCallId(res.callId)?.receiveStrayResponse(res);
  }

  private trunkAuthorization(trunk: TrunkTarget, request: SipRequest, challenge: SipResponse): string | null {
    if (!trunk.username || !trunk.passwordSealed) return null;
    let password: string;
    try {
      password = this.deps.secrets.open(trunk.passwordSealed);
    } catch {
      this.deps.log.warn('trunk password cannot be opened with this server key', { trunkId: trunk.id });
      return null;
    }
    const headers = challenge.getAll(challenge.status === 401 ? 'www-authenticate' : 'proxy-authenticate');
    return answerChallenge(headers, { username: trunk.username, password }, 'INVITE', request.uri);
  }

  /** Ends every call (shutdown): BYE to both sides, records closed. */
  async stop(): Promise<void> {
    this.stopTrunkRefresh();
    await this.queueCallbacks?.stop();
    await Promise.all([
      ...this.registry.originated().map((c) => c.close('failed')),
      ...this.calls().map((c) => (c.state === 'Answered' ? (c.hangup('a', 'failed'), Promise.resolve()) : c.finish('failed', null))),
      ...this.applicationCalls().map((c) => c.close()),
    ]);
  }
}

/**
 * The production listener of holds: a party's hold is its extension's presence (CallPresenceTracker.hold:
 * the busy lamp shows the call held, RFC 4235 §4.1.6), then whoever else listens (tests).
 */
function withHoldPresence(events: CallEvents, presence: CallPresenceTracker | null): CallEvents {
  if (!presence) return events;
  return {
    ...events,
    onHold: (call, side, held) => {
      const extensionId = call.extensionOn(side);
      if (extensionId) presence.hold(call, call.accountId, extensionId, held);
      events.onHold?.(call, side, held);
    },
  };
}

/** An application call's record: the call and its caller's leg, written as the B2BUA writes them. */
function openAppCallRecord(records: CallRecords, call: AppCall): Promise<{ callId: string; legId: string }> {
  const d = call.destination;
  const caller = call.caller;
  const from = call.invite.from();
  const direction = 'direction' in d ? d.direction : caller.kind === 'trunk' ? 'inbound' : 'internal';
  return records.startCallWithLeg(
    {
      accountId: caller.accountId,
      sipCallId: call.sipCallId,
      direction,
      fromNumber: caller.kind === 'device' ? caller.extensionNumber : (from?.uri.user ?? ''),
      fromName: from?.displayName ?? null,
      toNumber: call.invite.requestUri()?.user ?? '',
      callerExtensionId: caller.kind === 'device' ? caller.extensionId : null,
      calleeExtensionId: 'extensionId' in d ? d.extensionId : null,
      emergency: false,
    },
    {
      role: 'caller',
      endpoint: caller.kind === 'trunk' ? 'trunk' : call.isWebRtc ? 'webrtc' : 'sip',
      deviceId: caller.kind === 'device' ? caller.deviceId : null,
      sipCallId: call.sipCallId,
      remoteUri: call.invite.get('from') ?? null,
    },
  );
}

/** A call's end, on the call records channel; a lost publish loses only that call's missed-call e-mails. */
function publishCallEnded(redis: Redis, call: EndedCall, log: Logger): void {
  const event: CallRecordEvent = { kind: 'ended', accountId: call.accountId, callId: call.callId };
  redis.publish(CALL_RECORDS_CHANNEL, JSON.stringify(event)).catch((err: unknown) => log.warn('call end not published', { callId: call.callId, error: err }));
}
