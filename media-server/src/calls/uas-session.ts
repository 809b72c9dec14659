import type { Logger } from '@carillon/config';
import { newTag, type SipRequest } from '../sip/message/index.ts';
import { InviteSession, type SessionSettings } from '../sip/session/index.ts';
import type { InviteServerTransaction, TransactionLayer } from '../sip/transaction/index.ts';
import type { SipSource, SipTransportProtocol } from '../sip/transport/index.ts';
import { mediaAddress, parseSdp, type Codec } from '../sdp/session-description.ts';
import { chooseCodec, PLAIN_RTP_CODECS } from '../sdp/negotiate-codecs.ts';
import { reachTarget } from './binding-target.ts';
import { isWebRtcMedia } from './webrtc-media.ts';

/**
 * Our session as the UAS of an INVITE that reached us: a new local tag, our Contact on the transport
 * it came by, and requests to the party sent where its Contact says, over the connection it used.
 */
export function uasSession(o: {
  invite: SipRequest;
  tx: InviteServerTransaction;
  source: SipSource;
  transactions: TransactionLayer;
  localContact(transport: SipTransportProtocol): { host: string; port: number };
  sessionSettings?: Partial<SessionSettings> | undefined;
  log: Logger;
}): InviteSession {
  const { source } = o;
  const local = o.localContact(source.transport);
  return InviteSession.uas({
    invite: o.invite,
    transaction: o.tx,
    transactions: o.transactions,
    localTag: newTag(),
    localContact: `<sip:carillon@${local.host}:${local.port};transport=${source.transport.toLowerCase()}>`,
    resolveTarget: (remoteTarget) => reachTarget(remoteTarget, { transport: source.transport, address: source.remoteAddress, port: source.remotePort, connectionId: source.connectionId }),
    ...(o.sessionSettings ? { settings: o.sessionSettings } : {}),
    log: o.log,
  });
}

/**
 * The offer of an INVITE that joins a call already there (a member retrieving or picking it up, a
 * monitor): plain RTP only, its codec and where its media goes; null (answered 488) when it has no
 * usable audio or comes from a browser.
 */
export function joiningOffer(invite: SipRequest): { audio: Codec; telephoneEvent: Codec | null; remote: { address: string; rtpPort: number } } | null {
  const offer = invite.body.length ? parseSdp(invite.body.toString('utf8')) : null;
  const audio = offer?.media.find((m) => m.type === 'audio' && m.port > 0);
  const choice = offer && audio && !isWebRtcMedia(offer, audio) ? chooseCodec(audio.codecs, PLAIN_RTP_CODECS) : null;
  const address = offer && audio ? mediaAddress(offer, audio) : null;
  return choice && audio && address ? { audio: choice.audio, telephoneEvent: choice.telephoneEvent, remote: { address, rtpPort: audio.port } } : null;
}
