import type { Logger } from '@carillon/config';
import { dispatchDueSmsCampaigns, type SmsCampaignDispatchResult, type SmsDailyCampaignCounter } from '@carillon/core/sms';
import type { Db } from '@carillon/db';

export interface SmsCampaignSchedulerOptions {
  db: () => Promise<Db>;
  /** Queues campaign messages to `sms-send` (behind P2P texts). */
  enqueue: (accountId: string, messageIds: string[]) => Promise<void>;
  log: Logger;
  /** The clock the rules read (quiet hours, start times, the local day); tests drive it. */
  now?: () => Date;
  /** Pause between rounds that found nothing to queue. */
  idleMs?: number;
  /** Recipients queued per campaign and round. */
  batchSize?: number;
  maxBacklog?: number;
  dailyCap?: number;
  /** The per-account daily cap of campaign texts, and where it is counted (Redis: shared by every process). */
  accountDailyCap?: number;
  dailyCounter: SmsDailyCampaignCounter;
}

/**
 * The campaign scheduler of a workers process (issue 18, deliverable 2): a
 * loop of dispatch rounds. A round that queued something is followed by the
 * next at once; an idle one waits `idleMs`. Several processes may run it:
 * each campaign is leased by one round at a time (see dispatchDueSmsCampaigns).
 */
export class SmsCampaignScheduler {
  private readonly opts: Required<Omit<SmsCampaignSchedulerOptions, 'maxBacklog' | 'dailyCap' | 'accountDailyCap'>> & Pick<SmsCampaignSchedulerOptions, 'maxBacklog' | 'dailyCap' | 'accountDailyCap'>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private closed = false;

  constructor(opts: SmsCampaignSchedulerOptions) {
    this.opts = { now: () => new Date(), idleMs: 1000, batchSize: 200, ...opts };
  }

  /** One round now (tests call this directly with their clock). */
  async runOnce(): Promise<SmsCampaignDispatchResult> {
    const db = await this.opts.db();
    return dispatchDueSmsCampaigns(db, {
      now: this.opts.now(),
      batchSize: this.opts.batchSize,
      enqueue: this.opts.enqueue,
      dailyCounter: this.opts.dailyCounter,
      ...(this.opts.accountDailyCap !== undefined ? { accountDailyCap: this.opts.accountDailyCap } : {}),
      ...(this.opts.maxBacklog !== undefined ? { maxBacklog: this.opts.maxBacklog } : {}),
      ...(this.opts.dailyCap !== undefined ? { dailyCap: this.opts.dailyCap } : {}),
    });
  }

  start(): void {
    if (this.closed || this.timer || this.running) return;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.runOnce().then(
        (r) => {
          if (r.queued > 0 || r.optedOut > 0) this.opts.log.debug('campaign round', { ...r });
          return r.queued + r.optedOut > 0 ? 0 : this.opts.idleMs;
        },
        (err: unknown) => {
          this.opts.log.error('campaign round failed', { error: err });
          return this.opts.idleMs;
        },
      ).then((next) => {
        this.running = undefined;
        this.schedule(next);
      });
    }, ms);
  }

  /** Stops the loop and waits for a round in progress. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
