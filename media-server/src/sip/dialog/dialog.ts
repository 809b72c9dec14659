import { formatNameAddr, formatUri, parseNameAddr, SipRequest, type SipResponse } from '../message/index.ts';

/**
 * A dialog (RFC 3261 §12): the state two user agents share for the life of a
 * call, and what every in-dialog request is built from. Its fields are the
 * RFC's list, as data.
 */
export interface DialogState {
  callId: string;
  localTag: string;
  remoteTag: string;
  /** From/To values as this side writes them (with tags). */
  localUri: string;
  remoteUri: string;
  localSeq: number;
  remoteSeq: number;
  remoteTarget: string;
  routeSet: string[];
  /** Our Contact, sent in every target-refresh request and response. */
  localContact: string;
}

export class Dialog {
  readonly state: DialogState;

  constructor(state: DialogState) {
    this.state = state;
  }

  get id(): string {
    return `${this.state.callId};${this.state.localTag};${this.state.remoteTag}`;
  }

  /** §12.1.1: the dialog of a UAS that answers an INVITE. */
  static fromIncomingInvite(invite: SipRequest, localTag: string, localContact: string): Dialog | null {
    const from = invite.from();
    const to = invite.to();
    const contact = invite.contacts()[0];
    const remoteTag = from?.params.get('tag');
    if (!from || !to || !contact || !remoteTag) return null;
    const toWithTag = parseNameAddr(invite.get('to')!)!;
    toWithTag.params.set('tag', localTag);
    return new Dialog({
      callId: invite.callId,
      localTag,
      remoteTag,
      localUri: formatNameAddr(toWithTag),
      remoteUri: invite.get('from')!,
      localSeq: Math.floor(Math.random() * 10_000),
      remoteSeq: invite.cseq.seq,
      remoteTarget: formatUri(contact.uri),
      routeSet: invite.getAll('record-route'),
      localContact,
    });
  }

  /** §12.1.2: the dialog of a UAC from a 1xx/2xx with a To tag. */
  static fromResponse(request: SipRequest, response: SipResponse): Dialog | null {
    const toTag = response.to()?.params.get('tag');
    const fromTag = request.from()?.params.get('tag');
    const contact = response.contacts()[0];
    if (!toTag || !fromTag || !contact) return null;
    return new Dialog({
      callId: request.callId,
      localTag: fromTag,
      remoteTag: toTag,
      localUri: request.get('from')!,
      remoteUri: response.get('to')!,
      localSeq: request.cseq.seq,
      remoteSeq: 0,
      remoteTarget: formatUri(contact.uri),
      routeSet: response.getAll('record-route').reverse(),
      localContact: request.get('contact') ?? '',
    });
  }

  /** §12.2.1.1: a new request within the dialog (BYE, re-INVITE, REFER, NOTIFY, INFO…). */
  createRequest(method: string, opts: { body?: Buffer; contentType?: string; cseq?: number } = {}): SipRequest {
    const seq = opts.cseq ?? (method === 'ACK' || method === 'CANCEL' ? this.state.localSeq : ++this.state.localSeq);
    const req = new SipRequest(method, this.state.remoteTarget);
    req.add('max-forwards', 70);
    req.add('from', this.state.localUri);
    req.add('to', this.state.remoteUri);
    req.add('call-id', this.state.callId);
    req.add('cseq', `${seq} ${method}`);
    for (const route of this.state.routeSet) req.add('route', route);
    if (method === 'INVITE' || method === 'REFER' || method === 'UPDATE' || method === 'NOTIFY' || method === 'SUBSCRIBE') {
      req.add('contact', this.state.localContact);
    }
    if (opts.body && opts.body.length) {
      req.body = opts.body;
      req.add('content-type', opts.contentType ?? 'application/sdp');
    }
    return req;
  }

  /** §12.2.2: an in-dialog request with a CSeq lower than the last one is out of order (answered 500). */
  acceptRemoteSeq(seq: number): boolean {
    if (seq <= this.state.remoteSeq && this.state.remoteSeq !== 0) return false;
    this.state.remoteSeq = seq;
    return true;
  }

  /** A target refresh (re-INVITE, UPDATE) may move the remote target. */
  refreshTarget(message: SipRequest | SipResponse): void {
    const contact = message.contacts()[0];
    if (contact) this.state.remoteTarget = formatUri(contact.uri);
  }
}
