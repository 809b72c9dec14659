import type { SipMessage, SipResponse } from '../message/index.ts';
import type { SipSource, SipTarget } from '../transport/index.ts';

/** The part of `SipTransportLayer` the transaction layer relies on. */
export interface TransactionTransport {
  send(message: SipMessage, target: SipTarget): Promise<void>;
  /**
   * A final response serialized once, to resend as is while a completed
   * transaction absorbs retransmitted requests; null where none can come
   * (reliable transports).
   */
  prepareResend?(response: SipResponse, target: SipSource): (() => Promise<void>) | null;
  on(event: 'message', listener: (message: SipMessage, source: SipSource) => void): unknown;
  off(event: 'message', listener: (message: SipMessage, source: SipSource) => void): unknown;
}
