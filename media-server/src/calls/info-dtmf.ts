import { createResponse, type SipRequest } from '../sip/message/index.ts';
import type { InviteServerTransaction, NonInviteServerTransaction } from '../sip/transaction/index.ts';

/**
 * A digit sent as SIP INFO (application/dtmf-relay `Signal=5`, or application/dtmf), for phones that
 * send digits that way rather than as RFC 4733 events. The INFO is answered here: 200, or 400 for a
 * DTMF body with no digit in it (an INFO of another kind gets 200 and carries none). Returns the digit,
 * upper-cased, or null.
 */
export function answerInfoDtmf(req: SipRequest, tx: NonInviteServerTransaction | InviteServerTransaction): string | null {
  const type = (req.get('content-type') ?? '').toLowerCase();
  const body = req.body.toString('utf8');
  const digit = type.includes('dtmf-relay') ? /Signal\s*=\s*([0-9*#A-Da-d])/.exec(body)?.[1] : type.includes('application/dtmf') ? body.trim()[0] : undefined;
  tx.respond(createResponse(req, digit || !type.includes('dtmf') ? 200 : 400));
  return digit ? digit.toUpperCase() : null;
}
