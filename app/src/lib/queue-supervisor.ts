import type { QueueDayFigures } from '@carillon/contracts/call-queues';

/**
 * What the call queues' supervisor view shows (issue 15), as the server sends it: per queue, the
 * callers waiting (their wait counted in the browser from `joinedAt`), the members' states and the
 * day's figures on the account's wall clock.
 */
export const AGENT_STATES = ['on_call', 'ringing', 'wrap_up', 'logged_out', 'dnd', 'offline', 'available'] as const;
export type AgentState = (typeof AGENT_STATES)[number];

export interface SupervisedCaller {
  entryId: string;
  number: string | null;
  name: string | null;
  /** When the caller joined the queue (ms epoch, the server's clock). */
  joinedAt: number;
}

export interface SupervisedAgent {
  extensionId: string;
  extension: string;
  name: string;
  state: AgentState;
}

export interface SupervisedQueue {
  id: string;
  number: string;
  name: string;
  waiting: SupervisedCaller[];
  agents: SupervisedAgent[];
  today: QueueDayFigures;
}

/** A view of some queues, with the server's clock when it was read (the browser counts waits against it). */
export interface SupervisorSnapshot {
  serverNow: number;
  queues: SupervisedQueue[];
}
