import { randomUUID } from 'node:crypto';
import type { Logger } from '@carillon/config';
import type { CallDirection as RecordDirection, CallResult } from '@carillon/db';
import type { MediaEngine } from '../media/index.ts';
import type { SessionSettings } from '../sip/session/index.ts';
import type { InviteServerTransaction, NonInviteServerTransaction, TransactionLayer } from '../sip/transaction/index.ts';
import type { SipRequest, SipResponse } from '../sip/message/index.ts';
import { createResponse } from '../sip/message/index.ts';
import type { SipTransportProtocol } from '../sip/transport/index.ts';
import type { ExtensionDestination, PstnDestination, TrunkTarget } from '../routing/destination.ts';
import { CallEndedError, type BridgeOutcome, type PlaySource, type RoomRef } from '../apps/call-handle.ts';
import type { CalleeDevice, CalleeForks, CalleeTarget } from './app-call-bridge.ts';
import type { CallRecords } from './call-records.ts';
import { pstnCallee } from './pstn-callee.ts';
import { dialIntoRoom } from './room-dial-out.ts';
import type { RoomRegistry } from './room-registry.ts';

/** What an originated call needs from the engine (narrow, as AppCallContext is). */
export interface OriginatedCallContext {
  log: Logger;
  transactions: TransactionLayer;
  sessionSettings?: Partial<SessionSettings>;
  localContact(transport: SipTransportProtocol): { host: string; port: number };
  media: Pick<MediaEngine, 'createBridge' | 'dtlsFingerprint'>;
  rooms: Pick<RoomRegistry, 'enter'>;
  records: Pick<CallRecords, 'startCall' | 'addLeg' | 'legEnded' | 'answered' | 'ended'>;
  calleeDevices(extensionId: string): Promise<CalleeDevice[]>;
  domain: string;
  speak(text: string, language: 'en' | 'fr'): Promise<string>;
  /** A fork's Call-ID reaches this call (its BYE, a retransmitted 2xx) until the call is forgotten. */
  registerFork(callId: string, call: OriginatedCall): void;
  trunkAuthorization?(trunk: TrunkTarget, request: SipRequest, challenge: SipResponse): string | null;
  /** The call is closed and released: the engine forgets it (its forks' Call-IDs, its live count). */
  forget(call: OriginatedCall): void;
}

export interface OriginateRequest {
  accountId: string;
  language: 'en' | 'fr';
  /** Who the call is from in the call log and on the parties' displays (a queue: its number and name). */
  from: { number: string; name: string | null; extensionId: string | null };
  /** Who it is for in the call log (the number called back). */
  to: { number: string; extensionId: string | null };
  direction: RecordDirection;
}

/** Legs one originated call holds at once (a callback: the agent and the caller). */
const MAX_LEGS = 8;

/**
 * A call that no caller started (an "originate", as FreeSWITCH's `originate` or Asterisk's Originate
 * action): owned by an application that runs outside any call (a queue's callback). It has a record
 * from its start (no caller leg: its legs are its dial-outs, each written as a callee leg), counts as a
 * live call of the node until it is released, and its `close()` cascades: every leg it placed is hung
 * up (BYE, or CANCEL while it rings), their rooms' seats are left, then its end is written. Its legs
 * are calls/room-dial-out.ts dial-outs, the forking of calls/app-call-bridge.ts: nothing is duplicated.
 *
 *   open (record written) --> dialOut legs into rooms --> close(result): legs stopped, end written --> forgotten
 */
export class OriginatedCall {
  readonly id: string;
  readonly accountId: string;
  readonly language: 'en' | 'fr';
  /** A SIP Call-ID of its own for the record (the legs each have theirs). */
  readonly sipCallId: string;
  private readonly ctx: OriginatedCallContext;
  private readonly log: Logger;
  private readonly request: OriginateRequest;
  private readonly lifetime = new AbortController();
  private readonly legs = new Set<Promise<BridgeOutcome>>();
  private readonly forks: CalleeForks[] = [];
  private answered = false;
  private closing: Promise<void> | null = null;

  private constructor(ctx: OriginatedCallContext, id: string, sipCallId: string, request: OriginateRequest) {
    this.ctx = ctx;
    this.id = id;
    this.sipCallId = sipCallId;
    this.accountId = request.accountId;
    this.language = request.language;
    this.request = request;
    this.log = ctx.log.child('originated-call');
  }

  /** Writes the call's record and returns the call, live until closed. */
  static async open(ctx: OriginatedCallContext, request: OriginateRequest): Promise<OriginatedCall> {
    const sipCallId = `originated-${randomUUID()}`;
    const id = await ctx.records.startCall({
      accountId: request.accountId,
      sipCallId,
      direction: request.direction,
      fromNumber: request.from.number,
      fromName: request.from.name,
      toNumber: request.to.number,
      callerExtensionId: request.from.extensionId,
      calleeExtensionId: request.to.extensionId,
      emergency: false,
    });
    return new OriginatedCall(ctx, id, sipCallId, request);
  }

  get signal(): AbortSignal {
    return this.lifetime.signal;
  }

  get closed(): boolean {
    return this.lifetime.signal.aborted;
  }

  /** Legs ringing or talking now. */
  get activeLegs(): number {
    return this.legs.size;
  }

  /**
   * An outbound leg into a room as a speaker: an extension's registered devices, or an outside number
   * through the account's trunk (`PstnDestination` carries the caller ID shown). `announce` plays to
   * the party alone first; once in the room, `onJoined`'s `play` plays to it alone (the room's audio
   * paused for it). Resolves when the leg is over; it stops with the call or `hangup`.
   */
  async dialOut(target: ExtensionDestination | PstnDestination, room: RoomRef, options: { ringSeconds: number; announce?: PlaySource; fromName?: string; hangup?: AbortSignal; onJoined?: (party: { play(source: PlaySource): Promise<void> }) => void }): Promise<BridgeOutcome> {
    if (this.closed) throw new CallEndedError();
    if (room.accountId !== this.accountId || target.accountId !== this.accountId) throw new Error('dialOut: a room or a party of another account');
    if (this.legs.size >= MAX_LEGS) throw new RangeError(`dialOut: at most ${MAX_LEGS} legs at once`);
    if (!(options.ringSeconds > 0 && options.ringSeconds <= 600)) throw new RangeError('dialOut: ringSeconds in (0, 600]');
    const callees = await this.callees(target, options.fromName);
    if (callees.length === 0) return { outcome: 'unavailable', status: 480 };
    const announce = options.announce ? await this.announcement(options.announce) : undefined;
    if (this.closed) throw new CallEndedError();
    const stop = options.hangup ? AbortSignal.any([this.lifetime.signal, options.hangup]) : this.lifetime.signal;
    const run = dialIntoRoom(
      {
        log: this.log,
        transactions: this.ctx.transactions,
        ...(this.ctx.sessionSettings ? { sessionSettings: this.ctx.sessionSettings } : {}),
        localContact: this.ctx.localContact,
        dtlsFingerprint: this.ctx.media.dtlsFingerprint,
        // The first leg to answer is the call's answer; later ones leave it (dialIntoRoom asks to keep it).
        records: this.ctx.records,
        registerFork: (callId) => this.ctx.registerFork(callId, this),
        ...(this.ctx.trunkAuthorization ? { trunkAuthorization: this.ctx.trunkAuthorization } : {}),
        media: this.ctx.media,
        rooms: this.ctx.rooms,
      },
      {
        recordId: this.id,
        accountId: this.accountId,
        targets: callees,
        room,
        role: 'speaker',
        ringSeconds: options.ringSeconds,
        stop,
        onForks: (forks) => this.forks.push(forks),
        ...(announce ? { announce } : {}),
        onJoined: (party) => {
          this.answered = true;
          options.onJoined?.({
            play: async (source) => {
              const file = await this.announcement(source);
              if (file) await party.play(file.file);
            },
          });
        },
      },
    );
    this.legs.add(run);
    const forget = () => this.legs.delete(run);
    run.then(forget, forget);
    return run;
  }

  /** The INVITEs' parties: each registered device of the extension, or the carrier. */
  private async callees(target: ExtensionDestination | PstnDestination, fromName: string | undefined): Promise<CalleeTarget[]> {
    if (target.kind === 'pstn') return [{ ...pstnCallee(target, this.ctx.localContact), extensionId: null, confirm: false }];
    const from = this.request.from;
    const name = fromName ?? from.name;
    const devices = await this.ctx.calleeDevices(target.extensionId);
    return devices.map((d) => ({
      ...d,
      extensionId: target.extensionId,
      from: `${name ? `"${name.replace(/"/g, '')}" ` : ''}<sip:${from.number}@${this.ctx.domain}>`,
      to: `<sip:${target.extensionNumber}@${this.ctx.domain}>`,
      headers: [],
      trunk: null,
      confirm: false,
    }));
  }

  private async announcement(source: PlaySource): Promise<{ file: string } | undefined> {
    try {
      if ('file' in source) return { file: source.file };
      if ('tts' in source) return { file: await this.ctx.speak(source.tts, source.language ?? this.language) };
    } catch (err) {
      // Not spoken (no TTS here): the party joins without it rather than not at all.
      this.log.warn('announcement not spoken', { error: err });
    }
    return undefined;
  }

  /** A request in one of its legs' dialogs (the party's BYE): that fork's session answers it. */
  inDialog(req: SipRequest, tx: NonInviteServerTransaction | InviteServerTransaction): void {
    if (!this.forks.some((f) => f.inDialog(req, tx))) tx.respond(createResponse(req, 481));
  }

  /** A retransmitted 2xx of a fork: its session acknowledges it again. */
  receiveStrayResponse(res: SipResponse): void {
    for (const f of this.forks) f.receiveStrayResponse(res);
  }

  get forkCallIds(): string[] {
    return this.forks.flatMap((f) => f.callIds);
  }

  /**
   * Ends the call: every leg is stopped and released (the signal aborts them), then the end is written
   * with `result` ('answered' once a party talked in it whatever the caller asks, so a callback that
   * connected is never logged as missed). Idempotent; resolves once released.
   */
  close(result: CallResult = 'failed'): Promise<void> {
    if (this.closing) return this.closing;
    this.lifetime.abort();
    this.closing = (async () => {
      await Promise.allSettled([...this.legs]);
      const final: CallResult = result === 'answered' && !this.answered ? 'no_answer' : result;
      await this.ctx.records.ended(this.id, final, final === 'answered' ? 'callee' : null, []).catch((err: unknown) => this.log.error('originated call end not written', { error: err }));
      this.ctx.forget(this);
    })();
    return this.closing;
  }
}
