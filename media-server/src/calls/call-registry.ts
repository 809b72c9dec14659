/**
 * The calls live on this node, and how a SIP message finds its call: by the
 * caller's Call-ID, by the Call-ID of any other dialog a call holds (a fork,
 * a transfer target, a member who picked up or retrieved it, a monitor), or
 * by a full dialog identifier (Call-ID and both tags, RFC 3891 Replaces).
 *
 * Three kinds of call live here: calls the B2BUA bridges (`bridged`), calls
 * an application answers (`app`), and calls no caller started (`originated`,
 * a queue's callbacks, reached by their legs' Call-IDs). Calls are registered
 * when they start and forgotten when they end; the count of everything live
 * is what a new INVITE is bounded by and what the health endpoint reports.
 *
 * The cluster's view (which node owns a call, so the control channel can
 * forward a command to it) is the owner record in Redis (control/node-records.ts
 * through `CallOwnership`): the registry claims it when a caller's call starts
 * and releases it when that call ends, while it is still this call's.
 */

/** Where a node tells the cluster which calls it owns (control/call-ownership.ts writes it in Redis). */
export interface CallOwnership {
  claim(callId: string, accountId: string): void;
  /** Removes the record while it is still this node's (the account names the record's owner). */
  release(callId: string, accountId: string): void;
}

/** What the registry reads of a bridged call: its caller's Call-ID, its other Call-IDs, and which side holds a dialog. */
export interface RegisteredBridgedCall {
  readonly aCallId: string;
  readonly accountId: string;
  readonly forkCallIds: readonly string[];
  sideWithDialog(callId: string, tag1: string, tag2: string): 'a' | 'b' | null;
}

export interface RegisteredAppCall {
  readonly sipCallId: string;
  readonly accountId: string;
  readonly forkCallIds: readonly string[];
}

export interface RegisteredOriginatedCall {
  readonly forkCallIds: readonly string[];
}

export class CallRegistry<B extends RegisteredBridgedCall, A extends RegisteredAppCall, O extends RegisteredOriginatedCall> {
  /** Bridged calls by the caller's Call-ID, and by each other Call-ID they hold. */
  private readonly bridgedByCaller = new Map<string, B>();
  private readonly bridgedByOther = new Map<string, B>();
  /** Calls answered by an application, by the caller's Call-ID. */
  private readonly appByCaller = new Map<string, A>();
  /** Application calls by the Call-ID of each fork of their bridgeTo; originated calls by their legs' Call-IDs. */
  private readonly appByOther = new Map<string, A | O>();
  private readonly originatedCalls = new Set<O>();
  /** Call-IDs of new INVITEs being routed (no call object yet): a second INVITE with one of them is a loop. */
  private readonly routing = new Set<string>();
  private readonly ownership: CallOwnership | null;

  constructor(ownership: CallOwnership | null = null) {
    this.ownership = ownership;
  }

  // ---- New INVITEs being routed ----------------------------------------------------

  routingStarted(callId: string): void {
    this.routing.add(callId);
  }

  routingDone(callId: string): void {
    this.routing.delete(callId);
  }

  /** A caller's Call-ID already in use on this node (a call, or an INVITE being routed): a second INVITE with it is a loop (RFC 3261 §8.2.2.2). */
  callerCallIdInUse(callId: string): boolean {
    return this.bridgedByCaller.has(callId) || this.appByCaller.has(callId) || this.routing.has(callId);
  }

  // ---- Registering and forgetting --------------------------------------------------

  /** A bridged call starts: found by its caller's Call-ID, and owned by this node. */
  addBridged(call: B): void {
    this.bridgedByCaller.set(call.aCallId, call);
    this.ownership?.claim(call.aCallId, call.accountId);
  }

  /** Another dialog of a bridged call (a fork, a transfer target, a member's or a monitor's INVITE). */
  addBridgedDialog(callId: string, call: B): void {
    this.bridgedByOther.set(callId, call);
  }

  forgetBridged(call: B): void {
    if (this.bridgedByCaller.get(call.aCallId) === call) this.ownership?.release(call.aCallId, call.accountId);
    this.bridgedByCaller.delete(call.aCallId);
    for (const id of call.forkCallIds) this.bridgedByOther.delete(id);
  }

  /** An application's call starts: found by its caller's Call-ID, and owned by this node. */
  addApp(call: A): void {
    this.appByCaller.set(call.sipCallId, call);
    this.ownership?.claim(call.sipCallId, call.accountId);
  }

  /** A dialog of an application call's bridgeTo, or a leg of an originated call. */
  addAppDialog(callId: string, call: A | O): void {
    this.appByOther.set(callId, call);
  }

  forgetApp(call: A): void {
    this.forgetAppDialogs(call);
    if (this.appByCaller.get(call.sipCallId) !== call) return;
    this.appByCaller.delete(call.sipCallId);
    this.ownership?.release(call.sipCallId, call.accountId);
  }

  addOriginated(call: O): void {
    this.originatedCalls.add(call);
  }

  forgetOriginated(call: O): void {
    this.forgetAppDialogs(call);
    this.originatedCalls.delete(call);
  }

  private forgetAppDialogs(call: A | O): void {
    for (const id of call.forkCallIds) if (this.appByOther.get(id) === call) this.appByOther.delete(id);
  }

  // ---- Finding ----------------------------------------------------------------------

  /** The bridged call whose caller used this Call-ID. */
  bridged(callerCallId: string): B | null {
    return this.bridgedByCaller.get(callerCallId) ?? null;
  }

  /** The bridged call holding a dialog with this Call-ID, whichever side. */
  bridgedByCallId(callId: string): B | null {
    return this.bridgedByCaller.get(callId) ?? this.bridgedByOther.get(callId) ?? null;
  }

  /** The application call whose caller used this Call-ID. */
  app(callerCallId: string): A | null {
    return this.appByCaller.get(callerCallId) ?? null;
  }

  /** The application or originated call holding a dialog with this Call-ID (the caller's first). */
  appByCallId(callId: string): A | O | null {
    return this.appByCaller.get(callId) ?? this.appByOther.get(callId) ?? null;
  }

  /** The application call's fork, or the originated call's leg, with this Call-ID. */
  appDialog(callId: string): A | O | null {
    return this.appByOther.get(callId) ?? null;
  }

  /** The call whose caller used this Call-ID, whatever its kind (the control channel's commands name calls so). */
  byCallerCallId(callId: string): B | A | null {
    return this.bridgedByCaller.get(callId) ?? this.appByCaller.get(callId) ?? null;
  }

  /** The bridged call and side holding the dialog with these identifiers (tags in either order), for a Replaces. */
  findDialog(callId: string, tag1: string, tag2: string): { call: B; side: 'a' | 'b' } | null {
    const call = this.bridgedByCallId(callId);
    const side = call?.sideWithDialog(callId, tag1, tag2) ?? null;
    return call && side ? { call, side } : null;
  }

  // ---- Counting and listing ---------------------------------------------------------

  /** Calls in progress on this node, of every kind. */
  get count(): number {
    return this.bridgedByCaller.size + this.appByCaller.size + this.originatedCalls.size;
  }

  /** Calls in progress and INVITEs being routed: what a new INVITE is bounded by. */
  get load(): number {
    return this.count + this.routing.size;
  }

  bridgedCalls(): B[] {
    return [...this.bridgedByCaller.values()];
  }

  appCalls(): A[] {
    return [...this.appByCaller.values()];
  }

  originated(): O[] {
    return [...this.originatedCalls];
  }
}
