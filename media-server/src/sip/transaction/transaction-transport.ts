import type { SipMessage } from '../message/index.ts';
import type { SipSource, SipTarget } from '../transport/index.ts';

/** The part of `SipTransportLayer` the transaction layer relies on. */
export interface TransactionTransport {
  send(message: SipMessage, target: SipTarget): Promise<void>;
  on(event: 'message', listener: (message: SipMessage, source: SipSource) => void): unknown;
  off(event: 'message', listener: (message: SipMessage, source: SipSource) => void): unknown;
}
