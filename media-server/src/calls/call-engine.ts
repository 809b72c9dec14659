import type { Kysely } from 'kysely';
import type { Logger } from '@carillon/config';
import type { SecretBox } from '@carillon/core';
import type { Database } from '@carillon/db';
import type { MediaEngine } from '../media/index.ts';
import type { FailureThrottle } from '../registrar/auth-throttle.ts';
import type { BindingStore } from '../registrar/binding-store.ts';
import type { CredentialSource } from '../registrar/credential-cache.ts';
import { parseAuthorization, type DigestAuthority } from '../sip/auth/digest-challenge.ts';
import { answerChallenge } from '../sip/auth/digest-client.ts';
import { createResponse, type SipRequest, type SipResponse } from '../sip/message/index.ts';
import { acceptCancel, type InviteServerTransaction, type NonInviteServerTransaction, type TransactionLayer } from '../sip/transaction/index.ts';
import type { SipSource, SipTransportProtocol } from '../sip/transport/index.ts';
import { B2buaCall, CallEndedError } from './b2bua-call.ts';
import type { CallContext, CallEvents, CallParty } from './call-context.ts';
import { CallRecords } from './call-records.ts';
import { loadRoutingAccount, routeCall, type RoutingAccount, type TrunkTarget } from './dial-plan.ts';
import { LoadingCache } from '../cache/loading-cache.ts';
import { TrunkDirectory } from './trunk-directory.ts';
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
  /** maxCalls: calls (and so dialogs) at once; a new INVITE past it gets 503 with Retry-After. */
  settings?: Partial<{ noAnswerSeconds: number; t1Ms: number; maxCalls: number }>;
  events?: CallEvents;
  presence?: CallPresenceTracker;
  /** Kept on each call record (see closeCallsLeftOpen). */
  nodeId?: string;
  /** Told when a call starts and ends on this node, so that other services know where it lives (the control channel). */
  ownership?: CallOwnership;
}

/** Where a node tells the cluster which calls it owns (control/call-ownership.ts writes it in Redis). */
export interface CallOwnership {
  claim(callId: string, accountId: string): void;
  release(callId: string): void;
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
  /** By the caller's Call-ID, and by each callee fork's Call-ID. */
  private readonly byCallerCallId = new Map<string, B2buaCall>();
  private readonly byForkCallId = new Map<string, B2buaCall>();
  private readonly stopTrunkRefresh: () => void;
  /** An account's country, main number and name, read by every call: a change reaches calls within 10 s. */
  private readonly routingAccounts: LoadingCache<RoutingAccount>;

  constructor(deps: CallEngineDeps) {
    this.deps = deps;
    this.trunks = new TrunkDirectory(deps.db);
    this.stopTrunkRefresh = this.trunks.keepFresh();
    this.routingAccounts = new LoadingCache((id) => loadRoutingAccount(deps.db, id), 10_000);
    const records = new CallRecords(deps.db, deps.nodeId ?? null);
    this.ctx = {
      log: deps.log,
      transactions: deps.transactions,
      media: deps.media,
      records,
      bindings: deps.bindings,
      domain: deps.domain,
      settings: { noAnswerSeconds: deps.settings?.noAnswerSeconds ?? 60, t1Ms: deps.settings?.t1Ms ?? 500 },
      route: (caller, dialed) =>
        routeCall(deps.db, caller.kind === 'device' ? { kind: 'device', accountId: caller.accountId, extensionId: caller.extensionId, deviceId: caller.deviceId } : caller, dialed, async (_db, id) => (await this.routingAccounts.get(id)) ?? undefined),
      localContact: deps.localContact,
      trunkAuthorization: (trunk, request, challenge) => this.trunkAuthorization(trunk, request, challenge),
      registerFork: (callId, call) => this.byForkCallId.set(callId, call),
      recordingsDir: deps.recordingsDir,
      recordingSettings: async (accountId) => {
        const a = await deps.db.selectFrom('accounts').select(['on_demand_recording', 'language']).where('id', '=', accountId).executeTakeFirst();
        return { enabled: a?.on_demand_recording ?? false, language: a?.language ?? 'en' };
      },
      forget: (call) => {
        if (this.byCallerCallId.get(call.aCallId) === call) deps.ownership?.release(call.aCallId);
        this.byCallerCallId.delete(call.aCallId);
        for (const id of call.forkCallIds) this.byForkCallId.delete(id);
      },
      events: deps.events ?? {},
      presence: deps.presence ?? null,
      findDialog: (callId, tag1, tag2) => {
        const call = this.byCallerCallId.get(callId) ?? this.byForkCallId.get(callId);
        const side = call?.sideWithDialog(callId, tag1, tag2) ?? null;
        return call && side ? { call, side } : null;
      },
    };
  }

  /** For the stateless challenge: whether an address is a trusted carrier's, null when not known without a lookup. */
  isTrunkAddressNow(address: string): boolean | null {
    return this.trunks.isTrunkNow(address);
  }

  /** Loads the trunks' addresses now (an INVITE is challenged statelessly only while they are known; kept fresh every 5 s). */
  reloadTrunks(): Promise<void> {
    return this.trunks.refresh();
  }

  get activeCalls(): number {
    return this.byCallerCallId.size;
  }

  /** The call whose caller used this SIP Call-ID, while it is in progress on this node. */
  byCallId(callId: string): B2buaCall | null {
    return this.byCallerCallId.get(callId) ?? null;
  }

  /** Drops what this node cached of an account's configuration, after the app changed it (contracts/config-changes.ts). */
  invalidateAccount(accountId: string, subjects: readonly string[]): void {
    if (subjects.includes('account') || subjects.includes('numbers')) this.routingAccounts.invalidate(accountId);
    if (subjects.includes('trunks')) this.trunks.invalidate();
  }

  /** Every call in progress, for tests, monitoring and shutdown. */
  calls(): B2buaCall[] {
    return [...this.byCallerCallId.values()];
  }

  async handleInvite(req: SipRequest, tx: InviteServerTransaction, source: SipSource): Promise<void> {
    if (req.to()?.params.get('tag')) {
      await this.handleInDialog(req, tx);
      return;
    }
    if (this.byCallerCallId.has(req.callId)) {
      // A second INVITE with the same Call-ID and no To tag is a loop or a merged request (§8.2.2.2).
      tx.respond(createResponse(req, 482));
      return;
    }
    const caller = await this.identify(req, tx, source);
    if (!caller) return;
    if (this.byCallerCallId.size >= (this.deps.settings?.maxCalls ?? 10_000)) {
      // Bounded like every table a peer can grow: RFC 3261 §21.5.4, try again shortly.
      tx.respond(createResponse(req, 503, { reason: 'Too Many Calls' }).add('retry-after', 5));
      return;
    }
    const call = new B2buaCall(this.ctx, req, tx, source, caller);
    this.byCallerCallId.set(req.callId, call);
    this.deps.ownership?.claim(req.callId, caller.accountId);
    try {
      await call.start();
    } catch (err) {
      // Ended while it started (a CANCEL during routing): finish() is already releasing it.
      if (err instanceof CallEndedError) return;
      this.deps.log.error('call failed to start', { error: err });
      if (tx.canRespond) tx.respond(createResponse(req, 500));
      await call.finish('failed', null);
    }
  }

  /** A carrier by its source address, or a device by its digest credentials (407 first, RFC 3261 §22.3). */
  private async identify(req: SipRequest, tx: InviteServerTransaction, source: SipSource): Promise<CallParty | null> {
    const trunk = await this.trunks.byAddress(source.remoteAddress);
    if (trunk) return { kind: 'trunk', accountId: trunk.accountId, trunkId: trunk.trunkId };
    const address = source.remoteAddress;
    const header = req.get('proxy-authorization');
    const creds = header ? parseAuthorization(header) : null;
    // By user and address: one phone guessing wrong does not lock out the others behind the same NAT.
    if (this.deps.throttle.isThrottled(address, creds?.username ?? null)) {
      tx.respond(createResponse(req, 403, { reason: 'Too Many Failed Attempts' }));
      return null;
    }
    const challenge = (stale: boolean) => {
      const res = createResponse(req, 407);
      for (const c of this.deps.auth.challenges(stale)) res.add('proxy-authenticate', c);
      tx.respond(res);
      return null;
    };
    if (!creds) return challenge(false);
    const device = await this.deps.credentials.get(creds.username);
    const ha1 = device ? (creds.algorithm === 'MD5' ? device.ha1Md5 : device.ha1Sha256) : null;
    const verdict = await this.deps.auth.verify(creds, 'INVITE', ha1);
    if (verdict === 'stale') return challenge(true);
    if (verdict !== 'ok' || !device) {
      this.deps.throttle.recordFailure(address, creds.username);
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
    const call = this.byCallerCallId.get(req.callId) ?? this.byForkCallId.get(req.callId);
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

  handleAck(ack: SipRequest): void {
    this.byCallerCallId.get(ack.callId)?.receiveAck(ack);
  }

  handleCancel(cancel: SipRequest, cancelTx: NonInviteServerTransaction, inviteTx: InviteServerTransaction): void {
    const call = this.byCallerCallId.get(cancel.callId);
    if (!call) {
      acceptCancel(cancelTx, inviteTx);
      return;
    }
    call.cancelByCaller(() => acceptCancel(cancelTx, inviteTx));
  }

  handleStrayResponse(res: SipResponse): void {
    if (res.cseq.method === 'INVITE' && res.status >= 200 && res.status < 300) this.byForkCallId.get(res.callId)?.reAck(res);
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
    await Promise.all(this.calls().map((c) => (c.state === 'Answered' ? (c.hangup('a', 'failed'), Promise.resolve()) : c.finish('failed', null))));
  }
}
