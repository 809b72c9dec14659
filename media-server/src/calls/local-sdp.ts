import { randomInt } from 'node:crypto';
import { serializeSdp, type Codec, type MediaDirection } from '../sdp/session-description.ts';
import { TELEPHONE_EVENT } from '../sdp/negotiate-codecs.ts';
import { AUDIO_LEVEL_URI, type LocalWebRtc } from './webrtc-media.ts';

/**
 * Our side of a leg's SDP: media always ends at media-server, so the address
 * and port are the bridge leg's, whatever the other party offered.
 */
export class LocalSdp {
  private readonly sessionId = String(randomInt(1, 2 ** 31));
  private version = 1;

  build(opts: {
    address: string;
    port: number;
    codecs: Codec[];
    /** One telephone-event, several (an offer to a browser), or none. */
    telephoneEvent?: Codec | Codec[] | null;
    direction?: MediaDirection;
    /** For a browser: ICE-lite, one host candidate, DTLS-SRTP, rtcp-mux. */
    webrtc?: LocalWebRtc | null;
  }): Buffer {
    const codecs = [...opts.codecs];
    const te = opts.telephoneEvent === undefined ? TELEPHONE_EVENT : opts.telephoneEvent;
    if (Array.isArray(te)) codecs.push(...te);
    else if (te) codecs.push(te);
    const w = opts.webrtc ?? null;
    const mediaAttributes = w
      ? [
          `mid:${w.mid}`,
          `ice-ufrag:${w.ufrag}`,
          `ice-pwd:${w.pwd}`,
          `fingerprint:${w.fingerprint}`,
          `setup:${w.setup}`,
          'rtcp-mux',
          `rtcp:${opts.port} IN IP4 ${opts.address}`,
          ...(w.audioLevelId !== null ? [`extmap:${w.audioLevelId} ${AUDIO_LEVEL_URI}`] : []),
          'msid:carillon carillon-audio',
          `ssrc:${w.ssrc} cname:carillon`,
          `ssrc:${w.ssrc} msid:carillon carillon-audio`,
          `candidate:1 1 udp 2130706431 ${opts.address} ${opts.port} typ host`,
          'end-of-candidates',
        ]
      : [];
    const text = serializeSdp({
      origin: { username: 'carillon', sessionId: this.sessionId, version: String(this.version++), address: opts.address },
      sessionName: 'Carillon',
      connection: opts.address,
      attributes: w ? ['ice-lite', `group:BUNDLE ${w.mid}`, 'msid-semantic: WMS carillon'] : [],
      media: [
        {
          type: 'audio',
          port: opts.port,
          protocol: w ? 'UDP/TLS/RTP/SAVPF' : 'RTP/AVP',
          formats: codecs.map((c) => String(c.payloadType)),
          connection: null,
          codecs,
          direction: opts.direction ?? 'sendrecv',
          ptime: 20,
          attributes: mediaAttributes,
        },
      ],
    });
    return Buffer.from(text);
  }
}
