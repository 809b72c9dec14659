import { BRANCH_COOKIE, type SipRequest } from '../message/index.ts';

/**
 * Server transaction key, https://www.rfc-editor.org/rfc/rfc3261#section-17.2.3:
 * top Via branch, sent-by and method, where an ACK counts as the INVITE it
 * acknowledges. `asMethod` looks a request up as another method (a CANCEL as
 * the INVITE it cancels, §9.2). Branches without the RFC 3261 magic cookie come
 * from RFC 2543 clients and fall back to the dialog fields and the whole top
 * Via (the To tag comparison for ACK is left out: it only tells forks apart,
 * which a server transaction never sees). Null when there is no top Via.
 */
export function serverTransactionKey(request: SipRequest, asMethod?: string): string | null {
  const via = request.topVia();
  if (!via) return null;
  const method = asMethod ?? (request.method === 'ACK' ? 'INVITE' : request.method);
  const branch = via.params.get('branch') ?? '';
  const sentBy = `${via.host.toLowerCase()}:${via.port ?? ''}`;
  if (branch.startsWith(BRANCH_COOKIE)) return `${branch}|${sentBy}|${method}`;
  const fromTag = request.from()?.params.get('tag') ?? '';
  return `2543|${request.uri}|${fromTag}|${request.callId}|${request.cseq.seq}|${sentBy}|${branch}|${method}`;
}

/** Client transaction key, https://www.rfc-editor.org/rfc/rfc3261#section-17.1.3: our branch and the CSeq method. */
export const clientTransactionKey = (branch: string, method: string): string => `${branch}|${method}`;
