import type { SipRequest } from '../message/index.ts';
import type { TransactionLayer } from '../transaction/index.ts';

/** What an ACK is handed to: a session waiting for the ACK of a 2xx it sent. */
export interface AckReceiver {
  receiveAck(ack: SipRequest): void;
}

/**
 * The sessions of one transaction layer that wait for the ACK of a 2xx they
 * sent (to an initial INVITE or a re-INVITE), by Call-ID and our tag.
 *
 * The ACK of a 2xx has no transaction (RFC 3261 §17.1.1.3): the transaction
 * layer hands it to the TU, which must find the session itself. A session
 * adds itself here while it waits and leaves once the ACK came or the wait
 * ended, so the ACK reaches it whoever owns it, and after its owner has gone:
 * a BYE held for that ACK (§15) leaves when it comes, with no call left to
 * route it. The ACK's To tag is ours: the peer copies it from our 2xx
 * (§13.2.2.4), and it tells two sessions with one Call-ID apart (a B2BUA that
 * takes a call over, a monitor).
 */
export class AckRoutes {
  readonly #waiting = new Map<string, AckReceiver>();

  add(callId: string, localTag: string, session: AckReceiver): void {
    this.#waiting.set(key(callId, localTag), session);
  }

  delete(callId: string, localTag: string, session: AckReceiver): void {
    const k = key(callId, localTag);
    if (this.#waiting.get(k) === session) this.#waiting.delete(k);
  }

  /** Hands `ack` to the session waiting for it; false when none is (a retransmitted or stray ACK). */
  route(ack: SipRequest): boolean {
    const tag = ack.to()?.params.get('tag');
    const session = tag ? this.#waiting.get(key(ack.callId, tag)) : undefined;
    if (!session) return false;
    session.receiveAck(ack);
    return true;
  }

  /** Sessions waiting for an ACK now (leak checks). */
  get size(): number {
    return this.#waiting.size;
  }
}

function key(callId: string, localTag: string): string {
  return `${callId}\n${localTag}`;
}

const byLayer = new WeakMap<TransactionLayer, AckRoutes>();

/**
 * The ACK routes of a transaction layer: the sessions on it register there,
 * and its TU's `onAck` handler routes through them. One table per layer, as
 * the layer keeps one table of transactions, without the transaction layer
 * knowing sessions.
 */
export function ackRoutes(transactions: TransactionLayer): AckRoutes {
  let routes = byLayer.get(transactions);
  if (!routes) {
    routes = new AckRoutes();
    byLayer.set(transactions, routes);
  }
  return routes;
}
