/**
 * The SRTP state of one call leg: what we send is protected with our master
 * key, what we receive is checked with the peer's, for RTP and RTCP alike.
 */
import { SrtcpContext } from './srtcp-context.ts';
import { SrtpContext } from './srtp-context.ts';
import { srtpProfile, type SrtpMasterKey, type SrtpProfileName } from './srtp-profile.ts';

export interface SrtpSessionOptions {
  profile: SrtpProfileName;
  /** Keys we protect with (our a=crypto, or our side of the DTLS export). */
  local: SrtpMasterKey;
  /** Keys the peer protects with. */
  remote: SrtpMasterKey;
}

export class SrtpSession {
  readonly rtpOut: SrtpContext;
  readonly rtpIn: SrtpContext;
  readonly rtcpOut: SrtcpContext;
  readonly rtcpIn: SrtcpContext;

  constructor(options: SrtpSessionOptions) {
    const profile = srtpProfile(options.profile);
    this.rtpOut = new SrtpContext(options.local, profile);
    this.rtpIn = new SrtpContext(options.remote, profile);
    this.rtcpOut = new SrtcpContext(options.local, profile);
    this.rtcpIn = new SrtcpContext(options.remote, profile);
  }

  /** Bytes added to an RTP packet by protection. */
  get rtpOverhead(): number {
    return this.rtpOut.tagLength;
  }
  get rtcpOverhead(): number {
    return this.rtcpOut.overhead;
  }
}
