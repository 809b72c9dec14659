import { createResponse, type SipRequest } from '../sip/message/index.ts';
import type { InviteSession } from '../sip/session/index.ts';
import type { InviteServerTransaction, NonInviteServerTransaction } from '../sip/transaction/index.ts';

/**
 * The REFER side of a transfer asked by a party in one of our dialogs (RFC 3515), shared by the
 * B2BUA's parties and the callee an application call's `bridgeTo` connected.
 */

/** 202 Accepted to a REFER in `session`'s dialog (RFC 3515 §2.4.2): the implicit subscription starts. */
export function acceptRefer(session: InviteSession, req: SipRequest, tx: NonInviteServerTransaction | InviteServerTransaction): void {
  const accepted = createResponse(req, 202, { toTag: session.dialog!.state.localTag });
  accepted.add('contact', session.dialog!.state.localContact);
  tx.respond(accepted);
}

/** A NOTIFY of the transfer's progress (RFC 3515 §2.4.4): the status line as message/sipfrag. */
export function notifyRefer(session: InviteSession, sipfrag: string, subscriptionState: string): void {
  session.sendRequest('NOTIFY', {
    body: Buffer.from(sipfrag + '\r\n'),
    contentType: 'message/sipfrag;version=2.0',
    headers: [['event', 'refer'], ['subscription-state', subscriptionState]],
  });
}
