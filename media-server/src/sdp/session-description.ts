/**
 * SDP (RFC 4566) as the call engine needs it: the audio section, its codecs
 * and direction, and the connection address. Unknown lines are kept so that
 * what is not ours to change passes through untouched.
 */
export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface Codec {
  payloadType: number;
  name: string;
  clockRate: number;
  channels: number;
  fmtp: string | null;
}

export interface MediaSection {
  type: string;
  port: number;
  protocol: string;
  formats: string[];
  connection: string | null;
  codecs: Codec[];
  direction: MediaDirection;
  ptime: number | null;
  /** a= lines other than rtpmap, fmtp, ptime and direction, in order. */
  attributes: string[];
}

export interface SessionDescription {
  origin: { username: string; sessionId: string; version: string; address: string };
  sessionName: string;
  connection: string | null;
  /** Session-level a= lines (direction included, if any). */
  attributes: string[];
  media: MediaSection[];
}

const DIRECTIONS = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);
/** Static payload types of RFC 3551 that an offer may use without an rtpmap. */
const STATIC: Record<number, [string, number]> = { 0: ['PCMU', 8000], 8: ['PCMA', 8000], 9: ['G722', 8000], 18: ['G729', 8000] };

export function parseSdp(text: string): SessionDescription | null {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  if (!lines[0]?.startsWith('v=0')) return null;
  const sdp: SessionDescription = { origin: { username: '-', sessionId: '0', version: '0', address: '0.0.0.0' }, sessionName: '-', connection: null, attributes: [], media: [] };
  let current: MediaSection | null = null;
  const rtpmaps = new Map<MediaSection, Map<number, Codec>>();
  for (const line of lines) {
    if (line[1] !== '=') return null;
    const type = line[0];
    const value = line.slice(2);
    switch (type) {
      case 'o': {
        const p = value.split(' ');
        if (p.length < 6) return null;
        sdp.origin = { username: p[0]!, sessionId: p[1]!, version: p[2]!, address: p[5]! };
        break;
      }
      case 's':
        sdp.sessionName = value;
        break;
      case 'c': {
        const m = /^IN IP[46] (\S+)/.exec(value);
        if (!m) return null;
        if (current) current.connection = m[1]!;
        else sdp.connection = m[1]!;
        break;
      }
      case 'm': {
        const m = /^(\S+) ([0-9]{1,5})(?:\/[0-9]+)? (\S+)(?: (.*))?$/.exec(value);
        if (!m) return null;
        current = { type: m[1]!, port: Number(m[2]), protocol: m[3]!, formats: (m[4] ?? '').split(' ').filter(Boolean), connection: null, codecs: [], direction: 'sendrecv', ptime: null, attributes: [] };
        sdp.media.push(current);
        rtpmaps.set(current, new Map());
        break;
      }
      case 'a': {
        if (!current) {
          sdp.attributes.push(value);
          break;
        }
        const rtpmap = /^rtpmap:([0-9]{1,3}) ([^/]+)\/([0-9]+)(?:\/([0-9]+))?/.exec(value);
        const fmtp = /^fmtp:([0-9]{1,3}) (.*)$/.exec(value);
        if (rtpmap) {
          rtpmaps.get(current)!.set(Number(rtpmap[1]), { payloadType: Number(rtpmap[1]), name: rtpmap[2]!, clockRate: Number(rtpmap[3]), channels: Number(rtpmap[4] ?? 1), fmtp: null });
        } else if (fmtp) {
          const codec = rtpmaps.get(current)!.get(Number(fmtp[1]));
          if (codec) codec.fmtp = fmtp[2]!;
          else current.attributes.push(value);
        } else if (DIRECTIONS.has(value)) {
          current.direction = value as MediaDirection;
        } else if (value.startsWith('ptime:')) {
          current.ptime = Number(value.slice(6)) || null;
        } else {
          current.attributes.push(value);
        }
        break;
      }
      default:
        break;
    }
  }
  // Session-level direction applies to media sections that set none (RFC 3264 §5.1).
  const sessionDir = sdp.attributes.find((a) => DIRECTIONS.has(a)) as MediaDirection | undefined;
  for (const m of sdp.media) {
    const maps = rtpmaps.get(m)!;
    m.codecs = m.formats
      .map((f) => Number(f))
      .filter((pt) => Number.isInteger(pt))
      .map((pt) => maps.get(pt) ?? (STATIC[pt] ? { payloadType: pt, name: STATIC[pt]![0], clockRate: STATIC[pt]![1], channels: 1, fmtp: null } : null))
      .filter((c): c is Codec => c !== null);
    if (sessionDir && !m.attributes.some((a) => DIRECTIONS.has(a)) && m.direction === 'sendrecv') m.direction = sessionDir;
  }
  return sdp;
}

export function serializeSdp(sdp: SessionDescription): string {
  const out = ['v=0', `o=${sdp.origin.username} ${sdp.origin.sessionId} ${sdp.origin.version} IN IP4 ${sdp.origin.address}`, `s=${sdp.sessionName}`];
  if (sdp.connection) out.push(`c=IN IP4 ${sdp.connection}`);
  out.push('t=0 0');
  for (const a of sdp.attributes) if (!DIRECTIONS.has(a)) out.push(`a=${a}`);
  for (const m of sdp.media) {
    out.push(`m=${m.type} ${m.port} ${m.protocol} ${m.codecs.map((c) => c.payloadType).join(' ')}`);
    if (m.connection) out.push(`c=IN IP4 ${m.connection}`);
    for (const c of m.codecs) {
      out.push(`a=rtpmap:${c.payloadType} ${c.name}/${c.clockRate}${c.channels > 1 ? `/${c.channels}` : ''}`);
      if (c.fmtp) out.push(`a=fmtp:${c.payloadType} ${c.fmtp}`);
    }
    for (const a of m.attributes) out.push(`a=${a}`);
    if (m.ptime) out.push(`a=ptime:${m.ptime}`);
    out.push(`a=${m.direction}`);
  }
  return out.join('\r\n') + '\r\n';
}

/** The address media for a section goes to: its own c= line, else the session's (RFC 4566 §5.7). */
export const mediaAddress = (sdp: SessionDescription, m: MediaSection) => m.connection ?? sdp.connection;

/** RFC 3264 §8.4 (and the older RFC 2543 style 0.0.0.0): is this offer putting the call on hold? */
export function isHold(sdp: SessionDescription): boolean {
  const audio = sdp.media.find((m) => m.type === 'audio');
  if (!audio) return false;
  return audio.direction === 'sendonly' || audio.direction === 'inactive' || mediaAddress(sdp, audio) === '0.0.0.0';
}

/** What we answer to a direction offered to us (RFC 3264 §6.1). */
export function answerDirection(offered: MediaDirection): MediaDirection {
  switch (offered) {
    case 'sendonly':
      return 'recvonly';
    case 'recvonly':
      return 'sendonly';
    default:
      return offered;
  }
}
