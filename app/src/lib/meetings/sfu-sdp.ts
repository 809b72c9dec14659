import type { MeetingConsumerInfo, MeetingRtpParameters, MeetingTransportInfo } from '@carillon/contracts/meeting-control';

/**
 * The browser's side of the SFU's signalling without mediasoup-client (issue 17): the SFU speaks
 * mediasoup's parameters (a transport's ICE-lite and DTLS parameters, producers' and consumers' RTP
 * parameters), the browser's RTCPeerConnection speaks SDP. These translate both ways, in the manner
 * of mediasoup-client's RemoteSdp, for the codecs a meeting forwards (Opus, VP8), one bundled
 * transport per direction (RFC 8843), rtcp-mux (RFC 5761). Header extensions, RTX, simulcast and
 * TWCC are not negotiated yet: the SFU forwards plain streams and answers NACK and PLI/FIR.
 */

/** The RTCP feedback the SFU answers (NACK, PLI, FIR); the browser is told of nothing else. */
const FEEDBACK = [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }];

export interface OfferedTrack {
  kind: 'audio' | 'video';
  mid: string;
  rtpParameters: MeetingRtpParameters;
}

export interface ReadOffer {
  dtlsParameters: { role: 'auto' | 'client' | 'server'; fingerprints: { algorithm: 'sha-256'; value: string }[] };
  tracks: OfferedTrack[];
}

interface Section {
  lines: string[];
}

function sections(sdp: string): { session: string[]; media: Section[] } {
  const session: string[] = [];
  const media: Section[] = [];
  for (const line of sdp.split(/\r?\n/)) {
    if (!line) continue;
    if (line.startsWith('m=')) media.push({ lines: [line] });
    else if (media.length) media.at(-1)!.lines.push(line);
    else session.push(line);
  }
  return { session, media };
}

const attr = (lines: string[], name: string) => lines.filter((l) => l.startsWith(`a=${name}:`)).map((l) => l.slice(name.length + 3));

function dtlsOf(session: string[], section: Section): ReadOffer['dtlsParameters'] {
  const fp = attr(section.lines, 'fingerprint')[0] ?? attr(session, 'fingerprint')[0];
  const setup = attr(section.lines, 'setup')[0] ?? attr(session, 'setup')[0] ?? 'actpass';
  if (!fp) throw new Error('the browser gave no DTLS fingerprint');
  const [algorithm, value] = fp.split(' ');
  if (algorithm?.toLowerCase() !== 'sha-256' || !value) throw new Error('the browser gave no sha-256 fingerprint');
  // Our role follows from the browser's a=setup (RFC 5763 §5): active is a DTLS client, passive a server.
  const role = setup === 'active' ? 'client' : setup === 'passive' ? 'server' : 'auto';
  return { role, fingerprints: [{ algorithm: 'sha-256', value: value.toUpperCase() }] };
}

/**
 * The browser's send offer read as producers' RTP parameters: per m-line its mid, the meeting's
 * codec for its kind (at the browser's payload type, with its fmtp), its SSRC and cname.
 */
export function readSendOffer(sdp: string, codecs: readonly { kind: 'audio' | 'video'; mimeType: string; clockRate: number; channels?: number }[]): ReadOffer {
  const { session, media } = sections(sdp);
  if (!media.length) throw new Error('the offer has no media');
  const tracks = media.map((m): OfferedTrack => {
    const kind = m.lines[0]!.slice(2).split(' ')[0] as 'audio' | 'video';
    const mid = attr(m.lines, 'mid')[0];
    const wanted = codecs.find((c) => c.kind === kind);
    if (!mid || !wanted) throw new Error(`no mid or no codec for ${kind}`);
    const [, name] = wanted.mimeType.split('/');
    let payloadType: number | null = null;
    for (const map of attr(m.lines, 'rtpmap')) {
      const [pt, enc] = map.split(' ');
      const [encName, rate, channels] = (enc ?? '').split('/');
      if (encName?.toLowerCase() === name!.toLowerCase() && Number(rate) === wanted.clockRate && (!wanted.channels || Number(channels ?? 1) === wanted.channels)) {
        payloadType = Number(pt);
        break;
      }
    }
    if (payloadType === null) throw new Error(`the browser does not offer ${wanted.mimeType}`);
    const fmtp = attr(m.lines, 'fmtp').find((f) => f.startsWith(`${payloadType} `));
    const parameters: Record<string, string | number> = {};
    for (const kv of (fmtp?.slice(String(payloadType).length + 1) ?? '').split(';')) {
      const [k, v] = kv.trim().split('=');
      if (k && v !== undefined && /^[A-Za-z0-9_-]{1,40}$/.test(k)) parameters[k] = /^\d+$/.test(v) ? Number(v) : v;
    }
    // The first SSRC of the m-line is the media's; a FID group's second is RTX, not negotiated here.
    const ssrcLine = attr(m.lines, 'ssrc')[0];
    const ssrc = ssrcLine ? Number(ssrcLine.split(' ')[0]) : NaN;
    if (!Number.isInteger(ssrc)) throw new Error(`no SSRC for ${kind}`);
    const cname = attr(m.lines, 'ssrc').map((l) => /cname:(\S+)/.exec(l)?.[1]).find(Boolean);
    return {
      kind,
      mid,
      rtpParameters: {
        mid,
        codecs: [{ mimeType: wanted.mimeType, payloadType, clockRate: wanted.clockRate, ...(wanted.channels ? { channels: wanted.channels } : {}), parameters, rtcpFeedback: kind === 'video' ? FEEDBACK : [] }],
        encodings: [{ ssrc }],
        rtcp: cname ? { cname } : {},
      },
    };
  });
  return { dtlsParameters: dtlsOf(session, media[0]!), tracks };
}

/** The browser's answer to our receive offer: its DTLS parameters. */
export function readAnswerDtls(sdp: string): ReadOffer['dtlsParameters'] {
  const { session, media } = sections(sdp);
  if (!media.length) throw new Error('the answer has no media');
  return dtlsOf(session, media[0]!);
}

function transportLines(t: MeetingTransportInfo, setup: 'passive' | 'actpass'): string[] {
  return [
    `a=ice-ufrag:${t.iceParameters.usernameFragment}`,
    `a=ice-pwd:${t.iceParameters.password}`,
    ...t.dtlsParameters.fingerprints.map((f) => `a=fingerprint:${f.algorithm} ${f.value}`),
    `a=setup:${setup}`,
    'a=rtcp-mux',
  ];
}

function codecLines(rtp: MeetingRtpParameters): string[] {
  const lines: string[] = [];
  for (const c of rtp.codecs) {
    const [, name] = c.mimeType.split('/');
    lines.push(`a=rtpmap:${c.payloadType} ${name}/${c.clockRate}${c.channels ? `/${c.channels}` : ''}`);
    for (const f of c.rtcpFeedback ?? []) lines.push(`a=rtcp-fb:${c.payloadType} ${f.type}${f.parameter ? ` ${f.parameter}` : ''}`);
    const fmtp = Object.entries(c.parameters ?? {});
    if (fmtp.length) lines.push(`a=fmtp:${c.payloadType} ${fmtp.map(([k, v]) => `${k}=${v}`).join(';')}`);
  }
  return lines;
}

function candidateLines(t: MeetingTransportInfo): string[] {
  return [...t.iceCandidates.map((c) => `a=candidate:${c.foundation} 1 udp ${c.priority} ${c.address} ${c.port} typ host`), 'a=end-of-candidates'];
}

function sessionLines(t: MeetingTransportInfo, mids: string[], version: number): string[] {
  const address = t.iceCandidates[0]?.address ?? '127.0.0.1';
  return ['v=0', `o=- 1 ${version} IN IP4 ${address}`, 's=-', 't=0 0', 'a=ice-lite', `a=group:BUNDLE ${mids.join(' ')}`, 'a=msid-semantic: WMS *'];
}

const crlf = (lines: string[]) => lines.join('\r\n') + '\r\n';

/** Our answer to the browser's send offer: each m-line received with the codec the producer uses. */
export function sendAnswer(t: MeetingTransportInfo, tracks: OfferedTrack[]): string {
  const address = t.iceCandidates[0]?.address ?? '127.0.0.1';
  const port = t.iceCandidates[0]?.port ?? 9;
  const lines = sessionLines(t, tracks.map((x) => x.mid), 1);
  for (const track of tracks) {
    lines.push(`m=${track.kind} ${port} UDP/TLS/RTP/SAVPF ${track.rtpParameters.codecs.map((c) => c.payloadType).join(' ')}`, `c=IN IP4 ${address}`, `a=mid:${track.mid}`, 'a=recvonly');
    lines.push(...transportLines(t, 'passive'), ...codecLines(track.rtpParameters), ...candidateLines(t));
  }
  return crlf(lines);
}

/** A consumer in the receive offer: `closed` ones stay as inactive m-lines, since m-lines are never removed (RFC 8829 §5.2.2). */
export interface OfferedConsumer {
  consumer: MeetingConsumerInfo;
  closed: boolean;
}

/**
 * Our offer of the receive transport: one m-line per consumer, in the order they were made (their
 * mids are the transport's, "0", "1", …), each with our SSRC and cname and an msid naming the peer
 * (the stream) and the consumer (the track), so the browser groups a peer's audio and video.
 */
export function receiveOffer(t: MeetingTransportInfo, consumers: OfferedConsumer[], version: number): string {
  const address = t.iceCandidates[0]?.address ?? '127.0.0.1';
  const port = t.iceCandidates[0]?.port ?? 9;
  const lines = sessionLines(t, consumers.map((c) => c.consumer.rtpParameters.mid!), version);
  for (const { consumer, closed } of consumers) {
    const rtp = consumer.rtpParameters;
    lines.push(`m=${consumer.kind} ${port} UDP/TLS/RTP/SAVPF ${rtp.codecs.map((c) => c.payloadType).join(' ')}`, `c=IN IP4 ${address}`, `a=mid:${rtp.mid}`, closed ? 'a=inactive' : 'a=sendonly');
    lines.push(...transportLines(t, 'actpass'), ...codecLines(rtp));
    const encoding = rtp.encodings[0]!;
    const cname = rtp.rtcp?.cname ?? 'carillon-sfu';
    lines.push(`a=msid:${consumer.peerId} ${consumer.id}`);
    if (encoding.rtx) lines.push(`a=ssrc-group:FID ${encoding.ssrc} ${encoding.rtx.ssrc}`);
    for (const ssrc of [encoding.ssrc, encoding.rtx?.ssrc]) if (ssrc !== undefined) lines.push(`a=ssrc:${ssrc} cname:${cname}`);
    lines.push(...candidateLines(t));
  }
  return crlf(lines);
}
