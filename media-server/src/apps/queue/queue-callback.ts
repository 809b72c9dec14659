import { membersToOffer, spellDigits } from '@carillon/domain';
import type { QueueCallbackEntry } from '@carillon/contracts/call-queues';
import type { ExtensionDestination, PstnDestination } from '../../routing/destination.ts';
import type { BridgeOutcome, PlaySource, RoomRef } from '../call-handle.ts';
import { memberStates } from './queue.ts';
import type { QueueConfig, QueueDirectory, QueueState } from './queue-ports.ts';
import type { QueueWakeups } from './queue-wakeups.ts';

/**
 * A call no caller started, owned by the queue (calls/originated-call.ts): it has a record (from the
 * queue to the number called back), counts as a live call while it runs, and its `close()` ends every
 * leg it placed. Its legs are dial-outs into a room, as `CallHandle.dialOut` places them.
 */
export interface OriginatedCall {
  /** The call's id in the call log. */
  readonly id: string;
  /** The account's language (what the agent is told is spoken in it). */
  readonly language: 'en' | 'fr';
  /** Aborts when the call is closed (by the queue, or by the node's shutdown). */
  readonly signal: AbortSignal;
  /**
   * Rings an extension's devices, or an outside number through the account's trunk, and puts whoever
   * answers in the room as a speaker; `announce` is played to that party alone first (the agent hears
   * who it calls back), then it joins the room (`onJoined`). Resolves when the leg is over; it ends with
   * the call or when `hangup` aborts.
   */
  dialOut(target: ExtensionDestination | PstnDestination, room: RoomRef, options: { ringSeconds: number; announce?: PlaySource; fromName?: string; hangup?: AbortSignal; onJoined?: (party: JoinedParty) => void }): Promise<BridgeOutcome>;
  /** Ends the call (its legs first) and writes its end with the result. */
  close(result: 'answered' | 'no_answer' | 'failed'): Promise<void>;
}

/** A party of an originated call, in its room. */
export interface JoinedParty {
  /** Plays to this party alone, instead of the room; resolves at the audio's end. */
  play(source: PlaySource): Promise<void>;
}

export interface QueueOriginator {
  /** Opens an originated call of the queue, to the number it calls back. */
  originate(request: { accountId: string; queueId: string; queueNumber: string; toNumber: string; toExtensionId: string | null }): Promise<OriginatedCall>;
  /** An outside number called back through the account's trunk, the queue's number as caller ID; null when the account cannot call it. */
  pstnTarget(accountId: string, queueId: string, number: string): Promise<PstnDestination | null>;
}

export interface QueueCallbackDeps {
  directory: QueueDirectory;
  state: QueueState;
  originator: QueueOriginator;
  /** How often the node looks for a callback whose turn has come (ms), besides at each wake-up. */
  pollMs?: number;
  /**
   * The node's queue wake-ups (queue-wakeups.ts), shared with its queue application: a look at each
   * (a member freed, a caller ahead gone), and a wake-up when a callback frees its member or leaves.
   */
  wakeups?: QueueWakeups;
  /** How long after a callback the caller did not answer it is tried again (ms). */
  retryAfterMs?: number;
}

/** Callbacks tried in all: the first, and one retry when the caller does not answer; then the callback is dropped. */
export const CALLBACK_ATTEMPTS = 2;
const DEFAULT_POLL_MS = 500;
const DEFAULT_RETRY_AFTER_MS = 60_000;
/** A callback being served is refreshed this often (within QUEUE_CALLBACK_SERVING_TTL_MS). */
const SERVING_REFRESH_MS = 20_000;
/** Callbacks one node serves at once (each is two legs and a room). */
const MAX_SERVING = 50;

/** The agent's whisper before the caller is dialled: who it calls back. */
export function callbackAnnouncement(number: string, language: 'en' | 'fr'): string {
  const spelled = spellDigits(number);
  return language === 'fr' ? `Rappel pour le ${spelled}.` : `Callback for ${spelled}.`;
}

/** What the agent hears when the caller called back did not answer, before it is hung up. */
export function callbackNotAnswered(number: string, retried: boolean, language: 'en' | 'fr'): string {
  const spelled = spellDigits(number);
  if (language === 'fr') return `Le ${spelled} ne répond pas. ${retried ? 'Le rappel est abandonné.' : 'Nouvel essai plus tard.'}`;
  return `${spelled} did not answer. ${retried ? 'The callback is dropped.' : 'It will be tried again later.'}`;
}

export type CallbackResult = 'connected' | 'no-agent' | 'agent-no-answer' | 'caller-no-answer' | 'gone';

/**
 * Serves the queues' callbacks (issue 15, "callback that keeps your place"). Every node looks, at each
 * of its queue wake-ups and each `pollMs`, for callbacks whose turn has come (nobody ahead of them still waits, shared state in
 * Redis); one node takes each. A callback is served like a caller on the line: a free member is taken
 * by the queue's distribution and rung first (an originated call of the queue, its leg in a room,
 * hearing "callback for <number>"); once the member answers, the caller is dialled (its extension's
 * devices, or its outside number through the trunk with the queue's number as caller ID), and when it
 * answers both talk in the room. Nobody free, or the member does not answer: the callback goes back to
 * its place, as it was. The caller does not answer: the member is released, the call's record ends
 * 'no_answer', and the callback is tried once more after `retryAfterMs` (callers behind it are served
 * meanwhile), then dropped.
 */
export class QueueCallbacks {
  private readonly deps: QueueCallbackDeps;
  private timer: NodeJS.Timeout | null = null;
  private unlisten: (() => void) | null = null;
  private readonly serving = new Set<Promise<CallbackResult>>();
  /** Callbacks waiting for their retry: the retry's timer, and the interval keeping the entry 'serving' meanwhile. */
  private readonly retries = new Map<NodeJS.Timeout, NodeJS.Timeout>();
  /** The look in progress: one at a time, and stop waits for it (it goes on through Redis round trips). */
  private looking: Promise<void> | null = null;
  private stopped = false;
  /** The calls this node has open for callbacks: closed on stop. */
  private readonly calls = new Set<OriginatedCall>();

  constructor(deps: QueueCallbackDeps) {
    this.deps = deps;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.look(), this.deps.pollMs ?? DEFAULT_POLL_MS);
    this.unlisten = this.deps.wakeups?.onEveryWake(() => void this.look()) ?? null;
  }

  /** Stops looking and ends the callbacks being served (their calls closed); resolves once they are. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unlisten?.();
    this.unlisten = null;
    for (const [timer, keep] of this.retries) {
      clearTimeout(timer);
      clearInterval(keep);
    }
    this.retries.clear();
    // A look under way when stopped would go on using the state (and its Redis) after the caller closed it.
    await this.looking;
    await Promise.allSettled([...this.calls].map((c) => c.close('failed')));
    await Promise.allSettled([...this.serving]);
  }

  /** Callbacks being served on this node now. */
  get active(): number {
    return this.serving.size;
  }

  /** One look: each due callback this node can take is served (a look already under way is that look). */
  look(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.looking ??= this.lookNow().finally(() => (this.looking = null));
    return this.looking;
  }

  private async lookNow(): Promise<void> {
    try {
      for (const { queueId, entryId, accountId } of await this.deps.state.dueCallbacks()) {
        if (this.serving.size >= MAX_SERVING || this.stopped) break;
        // Only a queue this node knows: nodes that share Redis but not the database (tests, a staging
        // deployment) must not take, and drop, each other's callbacks.
        if (!(await this.deps.directory.ofQueue(accountId, queueId))) continue;
        const entry = await this.deps.state.takeCallback(queueId, entryId);
        if (!entry) continue;
        const run = this.serve(entry);
        this.serving.add(run);
        const forget = () => this.serving.delete(run);
        run.then(forget, forget);
      }
    } catch {
      // Redis away: the next look tries again.
    }
  }

  /** Serves one callback taken from the shared state; says how it went. */
  async serve(entry: QueueCallbackEntry): Promise<CallbackResult> {
    const { state, directory } = this.deps;
    const refresh = setInterval(() => void state.keepServing(entry.queueId, entry.entryId).catch(() => undefined), SERVING_REFRESH_MS);
    try {
      const queue = await directory.ofQueue(entry.accountId, entry.queueId);
      if (!queue) {
        await state.leave(entry.queueId, entry.entryId);
        return 'gone';
      }
      const ttlMs = this.remainingMs(entry, queue);
      if (ttlMs <= 0) {
        // Past the queue's longest wait: dropped, as a caller on the line would have been taken out.
        await state.leave(entry.queueId, entry.entryId);
        return 'gone';
      }
      const agent = await this.claimAgent(entry, queue);
      if (!agent) {
        await state.returnCallback(entry, ttlMs);
        return 'no-agent';
      }
      let result: CallbackResult = 'gone';
      let answered = false;
      try {
        result = await this.connect(entry, queue, agent, () => (answered = true));
        return result;
      } finally {
        await state.release(entry.accountId, agent.extensionId, entry.entryId, answered ? queue.settings.wrapUpSeconds * 1000 : 0).catch(() => undefined);
        await this.after(entry, queue, result);
        // The member is back (or in wrap-up) and the callback served or back in its place: the callers may go on.
        this.deps.wakeups?.wake(entry.accountId);
      }
    } finally {
      clearInterval(refresh);
    }
  }

  /** The callback's place after an attempt: gone when served or dropped, back in place, or tried again later. */
  private async after(entry: QueueCallbackEntry, queue: QueueConfig, result: CallbackResult): Promise<void> {
    const { state } = this.deps;
    if (result === 'agent-no-answer' || result === 'no-agent') {
      await state.returnCallback(entry, this.remainingMs(entry, queue)).catch(() => undefined);
      return;
    }
    if (result === 'caller-no-answer' && entry.attempts + 1 < CALLBACK_ATTEMPTS && !this.stopped) {
      // Kept as 'serving' (callers behind are served meanwhile), then back in its place for the retry.
      const retry: QueueCallbackEntry = { ...entry, attempts: entry.attempts + 1 };
      const keep = setInterval(() => void state.keepServing(entry.queueId, entry.entryId).catch(() => undefined), SERVING_REFRESH_MS);
      const timer = setTimeout(() => {
        clearInterval(keep);
        this.retries.delete(timer);
        void state.returnCallback(retry, this.remainingMs(entry, queue)).catch(() => undefined);
      }, this.deps.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS);
      this.retries.set(timer, keep);
      return;
    }
    await state.leave(entry.queueId, entry.entryId).catch(() => undefined);
  }

  /** What is left of the queue's longest wait since the caller asked. */
  private remainingMs(entry: QueueCallbackEntry, queue: QueueConfig): number {
    return Date.parse(entry.requestedAt) + queue.settings.maxWaitSeconds * 1000 - Date.now();
  }

  /** One free member, by the queue's distribution (one at a time, even for Simultaneous: one agent calls back), taken for the callback. */
  private async claimAgent(entry: QueueCallbackEntry, queue: QueueConfig): Promise<ExtensionDestination | null> {
    const { state } = this.deps;
    const members = await memberStates(this.deps, entry.accountId, queue);
    const rotor = await state.rotor(queue.extensionId);
    const free = membersToOffer({ distribution: queue.settings.distribution, members, rotor, tried: new Set() });
    const ringMs = (queue.settings.ringSeconds + 10) * 1000;
    for (const id of free) {
      if (!(await state.claim(entry.accountId, id, entry.entryId, ringMs))) continue;
      if (queue.settings.distribution === 'rotating') await state.setRotor(queue.extensionId, id);
      const number = queue.members.find((m) => m.extensionId === id)!.number;
      return { kind: 'extension', accountId: entry.accountId, extensionId: id, extensionNumber: number, direction: 'internal' };
    }
    return null;
  }

  /** The agent first, then the caller, in a room of their own; the originated call is closed whatever happens. */
  private async connect(entry: QueueCallbackEntry, queue: QueueConfig, agent: ExtensionDestination, onAgentAnswered: () => void): Promise<CallbackResult> {
    const { state, originator, directory } = this.deps;
    const caller = entry.extensionId
      ? ((await directory.userExtension(entry.accountId, entry.number)) ?? null)
      : await originator.pstnTarget(entry.accountId, queue.extensionId, entry.number);
    if (!caller) return 'gone';
    const call = await originator.originate({ accountId: entry.accountId, queueId: queue.extensionId, queueNumber: queue.number, toNumber: entry.number, toExtensionId: entry.extensionId });
    this.calls.add(call);
    const room: RoomRef = { accountId: entry.accountId, roomId: `queue-callback-${call.id}` };
    const agentGone = new AbortController();
    const callerGone = new AbortController();
    let result: CallbackResult = 'agent-no-answer';
    try {
      let agentParty: JoinedParty | null = null;
      let joined!: () => void;
      const agentJoined = new Promise<'joined'>((resolve) => (joined = () => resolve('joined')));
      const agentLeg = call.dialOut(agent, room, {
        ringSeconds: queue.settings.ringSeconds,
        announce: { tts: callbackAnnouncement(entry.number, call.language) },
        fromName: `Callback ${entry.number}`,
        hangup: agentGone.signal,
        onJoined: (party) => {
          agentParty = party;
          joined();
        },
      });
      const first = await Promise.race([agentJoined, agentLeg]);
      if (first !== 'joined') return (result = 'agent-no-answer');
      onAgentAnswered();
      await state.markBusy(entry.accountId, agent.extensionId, entry.entryId).catch(() => undefined);
      // The agent hung up before the caller answered: the caller's leg stops too.
      void agentLeg.then(() => callerGone.abort());
      let callerAnswered = false;
      const callerLeg = call.dialOut(caller, room, { ringSeconds: queue.settings.ringSeconds, hangup: callerGone.signal, onJoined: () => (callerAnswered = true) });
      const outcome = await callerLeg;
      result = outcome.outcome === 'answered' || callerAnswered ? 'connected' : 'caller-no-answer';
      // The agent is told the caller did not answer (and what becomes of the callback), unless it hung up already.
      const party = agentParty as JoinedParty | null;
      if (result === 'caller-no-answer' && party && !callerGone.signal.aborted) {
        await party.play({ tts: callbackNotAnswered(entry.number, entry.attempts + 1 >= CALLBACK_ATTEMPTS, call.language) }).catch(() => undefined);
      }
      agentGone.abort();
      await agentLeg.catch(() => undefined);
      return result;
    } finally {
      agentGone.abort();
      callerGone.abort();
      this.calls.delete(call);
      await call.close(result === 'connected' ? 'answered' : result === 'caller-no-answer' || result === 'agent-no-answer' ? 'no_answer' : 'failed');
    }
  }
}
