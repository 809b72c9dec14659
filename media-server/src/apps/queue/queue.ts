import { randomUUID } from 'node:crypto';
import { BLOCKED_MESSAGE_TEXT, dndTakesCall, estimatedWaitSeconds, membersToOffer, queueEntry, queueIsOpen, spokenWaitMinutes, type QueueExitAction, type QueuePrompt, type QueueMemberState } from '@carillon/domain';
import { queueDay, type QueueLeaveOutcome } from '@carillon/contracts/call-queues';
import type { CallDirection, ExtensionDestination } from '../../routing/destination.ts';
import { CallEndedError, type CallApp, type CallHandle, type PlaySource } from '../call-handle.ts';
import type { Mailboxes } from '../voicemail/mailboxes.ts';
import { takeMessage } from '../voicemail/take-message.ts';
import { callbackConfirmation, callbackNotConfirmed, callbackNumberAsk, callbackNumberCheck, callbackNumberInvalid, callbackOffer, positionAnnouncement } from './queue-announcements.ts';
import type { QueueConfig, QueueDirectory, QueueState } from './queue-ports.ts';
import { QueueWakeups } from './queue-wakeups.ts';

export interface QueueAppDeps {
  directory: QueueDirectory;
  state: QueueState;
  mailboxes: Mailboxes;
  /** How often a waiting caller looks for a free member (ms). */
  pollMs?: number;
  /** The node's wake-ups, shared with its callback service; a queue application of its own otherwise. */
  wakeups?: QueueWakeups;
  /** The clock the queue's hours are read at when a call arrives (tests set it). */
  now?: () => Date;
}

/** A waiting caller looks for a free member this often. */
const DEFAULT_POLL_MS = 250;
/** Rounds of "confirm or give another number" before the callback is given up and the caller waits on. */
export const CALLBACK_CONFIRM_ROUNDS = 3;
const CALLBACK_KEY_TIMEOUT_MS = 8000;
const CALLBACK_NUMBER_TIMEOUT_MS = 20_000;
/** E.164's 15 digits. */
const MAX_CALLBACK_DIGITS = 15;
/** A waiting caller's entry is kept alive this often (well within QUEUE_ENTRY_TTL_MS). */
const KEEP_ALIVE_MS = 10_000;
/** A member's 'busy' mark is refreshed this often while the queue call lasts (within QUEUE_MEMBER_BUSY_TTL_MS). */
const BUSY_REFRESH_MS = 20_000;

/**
 * A call queue (issue 15; inventory 2 §10: CQ-01, CQ-04, CQ-05): the caller is answered, takes its
 * place in the queue (or, past the queue's maximum of callers, gets the full-queue action), hears the
 * greeting and then hold music, and is offered to the members as the queue distributes calls:
 * Rotating (one member at a time, the first free one after the queue's rotating pointer), Sequential
 * (one at a time, in the admin's order) or Simultaneous (every free member at once). A member is
 * skipped when not accepting this queue's calls, in Do Not Disturb for queue calls, offline, on any
 * call, already taken by a queue, or in wrap-up after a queue call. Callers are offered in order of
 * arrival: one is offered only when nobody ahead of it still waits for an offer. Past the longest
 * wait, the caller gets the max-wait action. With the settings for it, the caller is told its place
 * and expected wait on entry, and the hold music is interrupted at an interval for a prompt and the
 * place again (CQ-05 interrupt audio). When nobody of the queue is free, the caller moves to the
 * first of its overflow queues that has a free member (CQ-06, once: no ping-pong between queues),
 * and follows that queue's settings from then on. Before all that (CQ-12), a blocked caller (anonymous, or a
 * listed number) hears the blocked message and is let go; a matching custom rule sends the caller to its
 * target (the mailbox, another extension, a message, or the queue as usual); outside the queue's own hours
 * (24 h or a weekly schedule on the account's wall clock), the caller gets the after-hours action and never queues. The queue's state is shared by the nodes (`QueueState`),
 * so callers on several nodes share one order and one set of busy members.
 */
export function queueApp(deps: QueueAppDeps): CallApp {
  const now = deps.now ?? (() => new Date());
  // One per node: its waiting callers are woken by the changes its own callers (and callbacks) make.
  const wakeups = deps.wakeups ?? new QueueWakeups();
  return async (call, destination) => {
    if (destination.kind !== 'queue') return call.reject(480, 'Call Queue Not Available');
    const arrivedAt = now();
    const queue = await deps.directory.ofQueue(destination.accountId, destination.extensionId);
    if (!queue) return call.reject(480, 'Call Queue Not Available');
    const caller = new QueueCaller(call, queue, destination.direction, deps, wakeups);
    // CQ-12: a blocked caller hears the blocked message and is let go; else the first custom rule that
    // matches, else the queue's own hours (its account's wall clock at the call's arrival) decide.
    const entry = queueEntry(queue.settings, queue.timeZone, { at: arrivedAt, callerId: call.caller.number, calledNumber: call.dialed || null });
    if (entry.kind === 'blocked') {
      await call.answer();
      await call.play({ tts: BLOCKED_MESSAGE_TEXT[queue.settings.blocked.message][call.language] });
      // The call log says rejected, by 'blocked', as a user's blocked caller.
      await call.hangup({ blocked: true });
      return;
    }
    if (entry.target.type !== 'queue') {
      await call.answer();
      await caller.exit(entry.target, 'rule');
      return;
    }
    await caller.run();
  };
}

/** Each member of a queue as the distribution sees it now: log-in, DND, phones, calls, and whether a queue holds it. */
export async function memberStates(deps: Pick<QueueAppDeps, 'directory' | 'state'>, accountId: string, queue: QueueConfig): Promise<QueueMemberState[]> {
  const ids = queue.members.map((m) => m.extensionId);
  const [presence, taken] = await Promise.all([deps.directory.memberPresence(accountId, ids), deps.state.takenMembers(accountId, ids)]);
  return queue.members.map((m) => {
    const p = presence.get(m.extensionId);
    return { extensionId: m.extensionId, position: m.position, accepting: m.accepting, dnd: p?.dnd ?? 'take_all_calls', online: p?.online ?? false, busy: (p?.onCall ?? false) || taken.has(m.extensionId) };
  });
}

/** One caller in one queue, from its arrival to its agent, its exit action, or its hang-up. */
class QueueCaller {
  private readonly call: CallHandle;
  private queue: QueueConfig;
  private readonly deps: QueueAppDeps;
  private readonly entryId: string;
  private status: 'waiting' | 'offering' = 'waiting';
  /** Members offered this call without an answer in the current round. */
  private readonly tried = new Set<string>();
  private music: AbortController | null = null;
  private readonly direction: CallDirection;
  /** Moved to an overflow queue already (a caller overflows once). */
  private overflowed = false;
  private deadline = 0;
  /** When the caller joined the queue it is in (ms epoch): its wait, for the supervisor view's figures. */
  private joinedAt = 0;

  private readonly wakeups: QueueWakeups;

  constructor(call: CallHandle, queue: QueueConfig, direction: CallDirection, deps: QueueAppDeps, wakeups: QueueWakeups) {
    this.wakeups = wakeups;
    this.call = call;
    this.direction = direction;
    this.queue = queue;
    this.deps = deps;
    this.entryId = call.id || randomUUID();
  }

  private get accountId(): string {
    return this.call.accountId;
  }

  async run(): Promise<void> {
    const { state } = this.deps;
    const settings = this.queue.settings;
    await this.call.answer();
    const place = await state.join(this.queue.extensionId, this.entryId, settings.maxCallers);
    if (place === 'full') {
      await this.exit(settings.onFull, 'busy');
      return;
    }
    this.deadline = Date.now() + settings.maxWaitSeconds * 1000;
    await this.entered();
    const keepAlive = setInterval(() => void state.keepAlive(this.queue.extensionId, this.entryId, this.status).catch(() => undefined), KEEP_ALIVE_MS);
    let inQueue = true;
    const leave = async (outcome: QueueLeaveOutcome) => {
      if (!inQueue) return;
      inQueue = false;
      clearInterval(keepAlive);
      await state.leave(this.queue.extensionId, this.entryId);
      // The caller behind may be next now.
      this.wakeups.wake(this.accountId);
      await this.left(outcome);
    };
    try {
      if (settings.greeting) await this.call.play(await this.source(settings.greeting));
      if (settings.announcePosition) await this.announcePosition();
      await this.offerCallback();
      const every = settings.interrupt ? settings.interrupt.everySeconds * 1000 : null;
      let nextInterrupt = every === null ? Infinity : Date.now() + every;
      while (Date.now() < this.deadline) {
        // Noted before this look: a change made meanwhile ends the pause after it at once.
        let seen = this.wakeups.generation(this.accountId);
        if (Date.now() >= nextInterrupt && every !== null) {
          await this.interrupt();
          nextInterrupt = Date.now() + every;
        }
        this.holdMusic();
        if (await state.isNext(this.queue.extensionId, this.entryId)) {
          const offer = await this.offer(leave);
          if (offer === 'answered') return;
          // Rung out without an answer: the next member at once (the round goes on). A refusal (busy, no phone) waits for the next look.
          if (offer === 'no-answer') continue;
          // Not woken by its own giving back of the member that refused: that would offer again at once.
          if (offer === 'refused') seen = this.wakeups.generation(this.accountId);
          // Nobody free here: the first overflow queue with a free member takes the caller.
          if (offer === 'none' && (await this.overflow())) continue;
        }
        if ((await this.pause(seen)) === 'callback' && (await this.holdForCallback(keepAlive))) {
          // The entry is the callback's now: it stays when this call ends.
          inQueue = false;
          await this.left('callback');
          return;
        }
      }
      await leave('sent_on');
      this.stopMusic();
      await this.exit(this.queue.settings.onMaxWait, 'no_answer');
    } finally {
      this.stopMusic();
      // Still in the queue here: the caller hung up while waiting (or its call failed).
      await leave('abandoned').catch(() => undefined);
    }
  }

  /**
   * Offers the caller to the members the distribution picks now: 'none' when nobody could be taken,
   * 'no-answer' when those rung did not answer, 'answered' when one did and the call is over.
   */
  private async offer(leave: (outcome: QueueLeaveOutcome) => Promise<void>): Promise<'none' | 'no-answer' | 'refused' | 'answered'> {
    const { directory, state } = this.deps;
    const queueId = this.queue.extensionId;
    // The configuration again: a member logged out or moved since the caller arrived counts from now.
    this.queue = (await directory.ofQueue(this.accountId, queueId)) ?? this.queue;
    const { settings, members } = this.queue;
    const [states, rotor] = await Promise.all([this.memberStates(this.queue), state.rotor(queueId)]);
    const claimed: string[] = [];
    const lost = new Set<string>();
    // A member another caller took meanwhile counts as busy, and the choice is made again.
    for (let attempt = 0; attempt <= members.length && claimed.length === 0; attempt++) {
      const now = states.map((m) => (lost.has(m.extensionId) ? { ...m, busy: true } : m));
      const next = membersToOffer({ distribution: settings.distribution, members: now, rotor, tried: this.tried });
      if (next.length === 0) return 'none';
      const ringMs = (settings.ringSeconds + 10) * 1000;
      const got = await Promise.all(next.map((id) => state.claim(this.accountId, id, this.entryId, ringMs)));
      next.forEach((id, i) => (got[i] ? claimed.push(id) : lost.add(id)));
    }
    if (claimed.length === 0) return 'none';
    if (settings.distribution === 'rotating') await state.setRotor(queueId, claimed[0]!);
    for (const id of claimed) this.tried.add(id);
    this.status = 'offering';
    await state.keepAlive(queueId, this.entryId, 'offering');
    // No longer waiting: the caller behind may be offered now, not at its next look.
    this.wakeups.wake(this.accountId);
    const targets: ExtensionDestination[] = claimed.map((id) => ({ kind: 'extension', accountId: this.accountId, extensionId: id, extensionNumber: members.find((m) => m.extensionId === id)!.number, direction: this.direction }));
    let answeredBy: string | null = null;
    let answeredAt = 0;
    let busyRefresh: NodeJS.Timeout | null = null;
    const released = new Set<string>();
    const release = (id: string, wrapUpMs: number) => {
      if (released.has(id)) return Promise.resolve();
      released.add(id);
      // A member given back at once may take the next caller now.
      return state.release(this.accountId, id, this.entryId, wrapUpMs).then(() => this.wakeups.wake(this.accountId));
    };
    try {
      const outcome = await this.call.bridgeTo(targets, {
        ringSeconds: settings.ringSeconds,
        onAnswered: (extensionId) => {
          answeredBy = extensionId;
          answeredAt = Date.now();
          // The caller is served: out of the queue; the member is busy; the others rung are free again.
          void leave('answered').catch(() => undefined);
          void state.markBusy(this.accountId, extensionId, this.entryId).catch(() => undefined);
          busyRefresh = setInterval(() => void state.markBusy(this.accountId, extensionId, this.entryId).catch(() => undefined), BUSY_REFRESH_MS);
          for (const id of claimed) if (id !== extensionId) void release(id, 0).catch(() => undefined);
        },
        // The member parked the caller: it is free (after its wrap-up) while the call waits on the location.
        onLeft: (extensionId) => {
          if (busyRefresh) clearInterval(busyRefresh);
          busyRefresh = null;
          void release(extensionId, settings.wrapUpSeconds * 1000).catch(() => undefined);
        },
      });
      if (outcome.outcome !== 'answered') return outcome.outcome === 'no-answer' ? 'no-answer' : 'refused';
      // How long the queue's calls last once answered: the expected wait told to the next callers.
      if (answeredAt) await state.recordHandleTime(queueId, Date.now() - answeredAt).catch(() => undefined);
      return 'answered';
    } finally {
      if (busyRefresh) clearInterval(busyRefresh);
      // After a queue call, the member rests for the wrap-up time; the others were only offered.
      await Promise.all(claimed.map((id) => release(id, id === answeredBy ? settings.wrapUpSeconds * 1000 : 0))).catch(() => undefined);
      if (answeredBy === null) {
        this.status = 'waiting';
        if (!this.call.signal.aborted) await state.keepAlive(queueId, this.entryId, 'waiting').catch(() => undefined);
        // Every member was tried: a new round (membersToOffer already falls back to the whole order; this keeps the set bounded).
        if (this.tried.size >= members.length) this.tried.clear();
      }
    }
  }

  /** Each member of a queue as the distribution sees it now: log-in, DND, phones, calls, and whether a queue holds it. */
  private memberStates(queue: QueueConfig): Promise<QueueMemberState[]> {
    return memberStates(this.deps, this.accountId, queue);
  }

  /**
   * CQ-06: moves the caller to the first overflow queue (in order) that has a free member and room,
   * leaving this one; true when it moved. Its wait starts again under that queue's settings.
   */
  private async overflow(): Promise<boolean> {
    const numbers = this.queue.settings.overflow;
    if (this.overflowed || numbers.length === 0) return false;
    for (const number of numbers) {
      const target = await this.deps.directory.queueByNumber(this.accountId, number);
      if (!target || target.extensionId === this.queue.extensionId) continue;
      // A queue outside its own hours takes no overflow: its callers would get its after-hours action, not an agent.
      if (!queueIsOpen(target.settings, target.timeZone, (this.deps.now ?? (() => new Date()))())) continue;
      const free = membersToOffer({ distribution: target.settings.distribution, members: await this.memberStates(target), rotor: null, tried: new Set() });
      if (free.length === 0) continue;
      if ((await this.deps.state.join(target.extensionId, this.entryId, target.settings.maxCallers)) === 'full') continue;
      await this.deps.state.leave(this.queue.extensionId, this.entryId);
      await this.left('sent_on');
      this.queue = target;
      await this.entered();
      this.overflowed = true;
      this.tried.clear();
      this.deadline = Date.now() + target.settings.maxWaitSeconds * 1000;
      return true;
    }
    return false;
  }

  /** The supervisor view: the caller joined `this.queue` now (who, from when; the day's figures). Never fails the call. */
  private async entered(): Promise<void> {
    this.joinedAt = Date.now();
    const { number, name } = this.call.caller;
    await this.deps.state.entered(this.accountId, this.queue.extensionId, this.entryId, { number, name }, this.day()).catch(() => undefined);
  }

  /** The supervisor view: the caller left `this.queue`, as `outcome` says, after its wait there. Never fails the call. */
  private async left(outcome: QueueLeaveOutcome): Promise<void> {
    await this.deps.state.left(this.accountId, this.queue.extensionId, this.entryId, outcome, Date.now() - this.joinedAt, this.day()).catch(() => undefined);
  }

  /** Today on the account's wall clock, which the figures are counted by. */
  private day(): string {
    return queueDay((this.deps.now ?? (() => new Date()))(), this.queue.timeZone);
  }

  /** The caller's place and, once the queue has an estimate, its expected wait. */
  private async announcePosition(): Promise<void> {
    const { directory, state } = this.deps;
    const queueId = this.queue.extensionId;
    const [rank, handleTimeMs, presence] = await Promise.all([state.position(queueId, this.entryId), state.handleTime(queueId), directory.memberPresence(this.accountId, this.queue.members.map((m) => m.extensionId))]);
    if (rank === null) return;
    // Members who take queue calls at all (on a call or not): they serve the callers ahead.
    const agents = this.queue.members.filter((m) => {
      const p = presence.get(m.extensionId);
      return m.accepting && p?.online && dndTakesCall(p.dnd, 'queue');
    }).length;
    const wait = estimatedWaitSeconds({ position: rank + 1, handleTimeMs, agents });
    this.stopMusic();
    await this.call.play({ tts: positionAnnouncement(rank + 1, wait === null ? null : spokenWaitMinutes(wait), this.call.language) });
  }

  /** CQ-05 interrupt audio: the music stops for the prompt and the caller's place, then goes on. */
  private async interrupt(): Promise<void> {
    const interrupt = this.queue.settings.interrupt;
    if (!interrupt) return;
    this.stopMusic();
    if (interrupt.prompt) await this.call.play(await this.source(interrupt.prompt));
    if (this.queue.settings.announcePosition) await this.announcePosition();
    await this.offerCallback();
  }

  /** Whether this caller may ask to be called back: the queue offers it and the caller has a number to call back. */
  private get callbackOffered(): boolean {
    return this.queue.settings.callback.enabled && this.call.caller.number !== null;
  }

  /** The callback offer, with the caller's place (on entry and at each interrupt). */
  private async offerCallback(): Promise<void> {
    if (!this.callbackOffered) return;
    this.stopMusic();
    await this.call.play({ tts: callbackOffer(this.queue.settings.callback.key, this.call.language) });
  }

  /**
   * The caller pressed the callback key: its entry becomes a callback in the shared state (who to call
   * back, kept for the queue's longest wait from now, then dropped), the caller is told and hung up.
   * False when the entry had left the queue meanwhile (the caller waits on).
   */
  private async holdForCallback(keepAlive: NodeJS.Timeout): Promise<boolean> {
    this.stopMusic();
    const chosen = await this.confirmCallbackNumber();
    if (!chosen) return false;
    const { number, extensionId } = chosen;
    const held = await this.deps.state.holdForCallback(
      {
        accountId: this.accountId,
        queueId: this.queue.extensionId,
        entryId: this.entryId,
        number,
        extensionId,
        requestedAt: new Date().toISOString(),
        attempts: 0,
      },
      this.queue.settings.maxWaitSeconds * 1000,
    );
    if (!held) return false;
    clearInterval(keepAlive);
    this.stopMusic();
    await this.call.play({ tts: callbackConfirmation(number, this.call.language) });
    await this.call.hangup();
    return true;
  }

  /**
   * The number the callback will ring, confirmed by the caller (issue 15: "presses 1, confirms the number"):
   * its own number read back, 1 to confirm, 2 to key another (ended by #; a user's extension number is rung
   * as that extension, any other as an outside number through the trunk, within the account's calling
   * rights when it is dialled). Null when nothing was confirmed after CALLBACK_CONFIRM_ROUNDS: the caller
   * is told it keeps its place and waits on. The caller stays in the queue all along.
   */
  private async confirmCallbackNumber(): Promise<{ number: string; extensionId: string | null } | null> {
    let number = this.call.caller.number;
    let extensionId = this.call.caller.extensionId;
    const language = this.call.language;
    for (let round = 0; round < CALLBACK_CONFIRM_ROUNDS && number !== null; round++) {
      const { digits } = await this.call.collect({ prompt: { tts: callbackNumberCheck(number, language) }, maxDigits: 1, timeoutMs: CALLBACK_KEY_TIMEOUT_MS });
      if (digits === '1') return { number, extensionId };
      if (digits !== '2') continue;
      const keyed = await this.call.collect({ prompt: { tts: callbackNumberAsk(language) }, maxDigits: MAX_CALLBACK_DIGITS, timeoutMs: CALLBACK_NUMBER_TIMEOUT_MS, terminators: '#' });
      if (!/^[0-9]{3,15}$/.test(keyed.digits)) {
        await this.call.play({ tts: callbackNumberInvalid(language) });
        continue;
      }
      number = keyed.digits;
      extensionId = (await this.deps.directory.userExtension(this.accountId, number))?.extensionId ?? null;
    }
    await this.call.play({ tts: callbackNotConfirmed(language) });
    return null;
  }

  /** Hold music while the caller waits: started again whenever it stopped (an offer's ringing stops it). */
  private holdMusic(): void {
    if (this.music || this.call.signal.aborted) return;
    const music = new AbortController();
    this.music = music;
    void this.holdMusicSource()
      .then((source) => this.call.play(source, { loop: true, stop: music.signal }))
      .catch(() => undefined)
      .finally(() => {
        if (this.music === music) this.music = null;
      });
  }

  private stopMusic(): void {
    this.music?.abort();
    this.music = null;
  }

  private async holdMusicSource(): Promise<PlaySource> {
    const hold = this.queue.settings.holdMusic;
    if (hold.mode === 'audio') {
      const file = await this.deps.directory.promptFile(this.accountId, hold.prompt);
      if (file) return { file };
    }
    return { file: this.deps.directory.defaultHoldMusic };
  }

  private async source(prompt: QueuePrompt): Promise<PlaySource> {
    if (prompt.mode === 'tts') return { tts: prompt.text };
    const file = await this.deps.directory.promptFile(this.accountId, prompt.prompt);
    // A prompt deleted from the library since: its name is read aloud rather than leaving silence.
    return file ? { file } : { tts: prompt.prompt };
  }

  /**
   * Until the next look for a free member; throws CallEndedError once the caller has hung up. Where
   * the queue offers callback, the caller's keys are listened to meanwhile: 'callback' when it pressed
   * the key (other keys are ignored).
   */
  private async pause(seen: number): Promise<'callback' | void> {
    if (this.callbackOffered) {
      const { digits } = await this.call.collect({ maxDigits: 1, timeoutMs: this.deps.pollMs ?? DEFAULT_POLL_MS });
      if (digits === this.queue.settings.callback.key) return 'callback';
      return;
    }
    return this.sleep(seen);
  }

  /** Until the poll interval passes or this node wakes the account's callers (since generation `seen`). */
  private sleep(seen: number): Promise<void> {
    const signal = this.call.signal;
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(new CallEndedError());
      let cancelWake: () => void = () => undefined;
      const finish = (ended: boolean) => {
        clearTimeout(timer);
        cancelWake();
        signal.removeEventListener('abort', aborted);
        if (ended) reject(new CallEndedError());
        else resolve();
      };
      const aborted = () => finish(true);
      const timer = setTimeout(() => finish(false), this.deps.pollMs ?? DEFAULT_POLL_MS);
      signal.addEventListener('abort', aborted, { once: true });
      // Last: a wake-up already come finishes at once (the timer and the listener above are then removed).
      cancelWake = this.wakeups.onWake(this.accountId, seen, () => finish(false));
    });
  }

  /** The max-wait, full-queue or after-hours action: the queue's mailbox, another extension, or a message then goodbye. */
  async exit(action: QueueExitAction, reason: 'busy' | 'no_answer' | 'rule'): Promise<void> {
    const call = this.call;
    if (action.type === 'voicemail') {
      await takeMessage(call, { accountId: this.accountId, extensionId: this.queue.extensionId, extensionNumber: this.queue.number }, reason, this.deps.mailboxes);
      return;
    }
    if (action.type === 'extension') {
      const target = await this.deps.directory.userExtension(this.accountId, action.extension);
      if (target) {
        const outcome = await call.bridgeTo(target, { ringSeconds: this.queue.settings.ringSeconds });
        if (outcome.outcome === 'answered') return;
      }
      await call.hangup();
      return;
    }
    if (action.message) await call.play(await this.source(action.message));
    await call.hangup();
  }
}
