import type { Logger } from '@carillon/config';
import type { MediaEngine } from '../media/index.ts';
import type { BindingStore } from '../registrar/binding-store.ts';
import type { SipRequest, SipResponse } from '../sip/message/index.ts';
import type { SessionSettings } from '../sip/session/index.ts';
import type { TransactionLayer } from '../sip/transaction/index.ts';
import type { SipTransportProtocol } from '../sip/transport/index.ts';
import type { B2buaCall } from './b2bua/b2bua-call.ts';
import type { AppCall } from './app-call.ts';
import type { CallPresenceTracker } from '../presence/call-presence.ts';
import type { CallRecords } from './call-records.ts';
import type { Destination, TrunkTarget } from '../routing/destination.ts';
import type { ParkLot } from './park-lot.ts';

/** Who placed a call: an authenticated device of an extension, or a carrier's trunk. */
export type CallParty =
  | { kind: 'device'; accountId: string; extensionId: string; extensionNumber: string; deviceId: string; displayName: string | null }
  | { kind: 'trunk'; accountId: string; trunkId: string };

export interface CallEvents {
  onAnswered?(call: B2buaCall): void;
  onEnded?(call: B2buaCall, result: string): void;
  onDtmf?(call: B2buaCall, side: 'a' | 'b', digit: string): void;
  /** A party put the call on hold or took it off; an application call's too ('a' its caller, 'b' the party its `bridgeTo` connected). */
  onHold?(call: B2buaCall | AppCall, side: 'a' | 'b', held: boolean): void;
  onTransferred?(call: B2buaCall, side: 'a' | 'b'): void;
  onRecording?(call: B2buaCall, recording: boolean): void;
  /** Parked on a location (its number), and when it left it (retrieved, recalled, or ended). */
  onParked?(call: B2buaCall | AppCall, location: string | null): void;
}

/** What a call needs from the engine around it; kept narrow so a call can be tested on its own. */
export interface CallContext {
  log: Logger;
  transactions: TransactionLayer;
  media: MediaEngine;
  records: CallRecords;
  bindings: BindingStore;
  domain: string;
  settings: { noAnswerSeconds: number };
  /** The SIP session layer's timers beyond the transaction layer's T1/T2 (glare retry unit, session-timer second, Min-SE); tests shorten them. */
  sessionSettings?: Partial<SessionSettings>;
  /** The dial plan (routing/): where a dialled string sends this caller. */
  route(caller: CallParty, dialed: string): Promise<Destination>;
  /** Our address and port for a transport, as written in Contact. */
  localContact(transport: SipTransportProtocol): { host: string; port: number };
  trunkAuthorization(trunk: TrunkTarget, request: SipRequest, challenge: SipResponse): string | null;
  registerFork(callId: string, call: B2buaCall): void;
  /** Where on-demand recordings are written (DATA_DIR/recordings). */
  recordingsDir: string;
  recordingSettings(accountId: string): Promise<{ enabled: boolean; language: 'en' | 'fr' }>;
  forget(call: B2buaCall): void;
  /** The answered call and side holding the dialog an attended transfer names (either tag order), if any. */
  findDialog(callId: string, tag1: string, tag2: string): { call: B2buaCall; side: 'a' | 'b' } | null;
  events: CallEvents;
  /** What calls do to extensions' presence (ringing, on a call); absent in tests that do not need it. */
  presence: CallPresenceTracker | null;
  /**
   * What the other party hears while an extension's user holds the call (inventory 1 §7.6 "Hold Music"): a
   * file, or null for silence (the user turned it off). Absent (users' settings not in use), the shipped hold music.
   */
  holdMusic?(accountId: string, extensionId: string): Promise<string | null>;
  /** Park locations (unreleased area 'park'): absent, a transfer to a location is refused as before (480). */
  parking?: ParkLot<B2buaCall | AppCall>;
}
