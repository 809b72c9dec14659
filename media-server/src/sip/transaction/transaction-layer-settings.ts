import type { Logger } from '@carillon/config';
import type { SipTransportProtocol } from '../transport/index.ts';
import type { TimerSettings } from './timers.ts';

export interface TransactionLayerSettings {
  /**
   * The sent-by of the Via we put on requests: responses come back there
   * (RFC 3261 §18.2.2). One port per transport, usually `SipTransportLayer.ports`;
   * a transport without one gets a Via without port.
   */
  via: { host: string; ports: Partial<Record<SipTransportProtocol, number>> };
  /** Shorter timers for tests; production keeps the RFC values. */
  timers?: Partial<TimerSettings>;
  logger?: Logger;
  /**
   * Most server transactions, live and completed, kept at once (default 50,000):
   * a peer's new request past it gets a stateless 503 with Retry-After.
   */
  maxServerTransactions?: number;
}
