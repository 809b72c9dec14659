import { randomInt } from 'node:crypto';
import { serializeSdp, type Codec, type MediaDirection } from '../sdp/session-description.ts';
import { TELEPHONE_EVENT } from '../sdp/negotiate-codecs.ts';

/**
 * Our side of a leg's SDP: media always ends at media-server, so the address
 * and port are the bridge leg's, whatever the other party offered.
 */
export class LocalSdp {
  private readonly sessionId = String(randomInt(1, 2 ** 31));
  private version = 1;

  build(opts: { address: string; port: number; codecs: Codec[]; telephoneEvent?: Codec | null; direction?: MediaDirection }): Buffer {
    const codecs = [...opts.codecs];
    const te = opts.telephoneEvent === undefined ? TELEPHONE_EVENT : opts.telephoneEvent;
    if (te) codecs.push(te);
    const text = serializeSdp({
      origin: { username: 'carillon', sessionId: this.sessionId, version: String(this.version++), address: opts.address },
      sessionName: 'Carillon',
      connection: opts.address,
      attributes: [],
      media: [
        {
          type: 'audio',
          port: opts.port,
          protocol: 'RTP/AVP',
          formats: codecs.map((c) => String(c.payloadType)),
          connection: null,
          codecs,
          direction: opts.direction ?? 'sendrecv',
          ptime: 20,
          attributes: [],
        },
      ],
    });
    return Buffer.from(text);
  }
}
