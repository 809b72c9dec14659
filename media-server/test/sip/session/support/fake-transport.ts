import { EventEmitter } from 'node:events';
import { parseSipMessage, serializeSipMessage, type SipMessage, type SipResponse } from '../../../../src/sip/message/index.ts';
import type { TransactionTransport } from '../../../../src/sip/transaction/index.ts';
import type { SipSource, SipTarget } from '../../../../src/sip/transport/index.ts';
import { Inbox } from '../../support/inbox.ts';

/** The one peer of a ladder: every message it sends comes from here. */
export const PEER_SOURCE: SipSource = { transport: 'UDP', remoteAddress: '192.0.2.10', remotePort: 5060, localAddress: '192.0.2.1', localPort: 5060 };

/**
 * A transport at the transaction layer's boundary: what the stack sends is
 * kept in `sent` (as the peer would receive it, parsed from its bytes), and a
 * ladder's peer messages are handed to the layer as the real transport would.
 */
export class FakeTransport extends EventEmitter<{ message: [SipMessage, SipSource] }> implements TransactionTransport {
  readonly sent = new Inbox();
  readonly targets: SipTarget[] = [];

  async send(message: SipMessage, target: SipTarget): Promise<void> {
    this.targets.push(target);
    // Through the wire format, so that a test sees exactly what would leave the machine.
    const parsed = parseSipMessage(serializeSipMessage(message));
    if (!parsed.ok) throw new Error(`the stack sent an unparsable message: ${parsed.reason}`);
    this.sent.push(parsed.message);
  }

  prepareResend(response: SipResponse, target: SipSource): () => Promise<void> {
    return () => this.send(response, target);
  }

  /** The peer sends `raw` (CRLF line ends). */
  deliver(raw: string): SipMessage {
    const parsed = parseSipMessage(Buffer.from(raw));
    if (!parsed.ok) throw new Error(`ladder message does not parse: ${parsed.reason}\n${raw}`);
    this.emit('message', parsed.message, PEER_SOURCE);
    return parsed.message;
  }

  deliverMessage(message: SipMessage): void {
    this.emit('message', message, PEER_SOURCE);
  }
}
