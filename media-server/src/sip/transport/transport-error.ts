/**
 * A message could not be handed to the network: no route, connection refused or
 * closed, datagram too large. The transaction layer turns it into the transport
 * failure of https://www.rfc-editor.org/rfc/rfc3261#section-17.1.4 (a 503 for the TU,
 * §8.1.3.1); callers may catch it, unlike programming errors.
 */
export class TransportError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TransportError';
  }
}
