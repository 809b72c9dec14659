import type { SipResponse } from '../message/index.ts';

/**
 * What a client transaction tells its TU
 * (https://www.rfc-editor.org/rfc/rfc3261#section-17.1). Per §8.1.3.1 a timeout
 * is a 408 and a transport error a 503: both are synthesized, handed to the
 * dedicated callback when there is one, else to `onResponse`.
 */
export interface ClientTransactionUser {
  onResponse?(response: SipResponse): void;
  /** Timer B or F fired. */
  onTimeout?(response: SipResponse): void;
  onTransportError?(error: Error, response: SipResponse): void;
}

/** What a server transaction tells its TU once the TU holds it. */
export interface ServerTransactionUser {
  /** Timer H fired: the final non-2xx response to an INVITE was never acknowledged (§17.2.1). */
  onTimeout?(): void;
  /** A response could not be sent (§17.2.4). */
  onTransportError?(error: Error): void;
}
