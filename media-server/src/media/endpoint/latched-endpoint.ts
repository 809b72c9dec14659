/**
 * Where one channel (RTP or RTCP) of a leg sends, learned first from SDP and
 * then from where the peer's packets really come from (symmetric RTP,
 * RFC 4961: "latching"), which is what gets media through NATs. Once
 * latched, packets from any other source are refused until the latched one
 * has been silent for a while, so a stranger cannot take a call's media over
 * while it flows, yet a phone whose NAT binding changed is followed.
 *
 * When SDP names another peer (a new dialog takes the leg: a shared-line
 * phone picking up a held call, a transfer target, a member retrieving a
 * parked call), the source latched until then is retired: the latch follows
 * the new dialog only, and a previous phone that keeps sending (its BYE not
 * yet seen, a socket left open) cannot take the media back.
 */
import type { RemoteInfo } from 'node:dgram';

export class LatchedEndpoint {
  address: string | null = null;
  port = 0;
  latched = false;
  private lastSeenMs = 0;
  private fixed = false;
  /** The peer SDP named last (what `expect` was given), to tell a new peer from the same one renegotiating. */
  private sdpAddress: string | null = null;
  private sdpPort = 0;
  /** `address port` of the source latched before SDP named another peer: never latched again. */
  private retired: string | null = null;
  private readonly relatchAfterMs: number;

  constructor(relatchAfterMs: number) {
    this.relatchAfterMs = relatchAfterMs;
  }

  /** The address from SDP: used until packets arrive, and latching starts over. */
  expect(address: string | null, port: number): void {
    const anotherPeer = address !== this.sdpAddress || port !== this.sdpPort;
    // A re-offer of the same peer (hold, resume) keeps whatever it latched eligible: it is still that peer.
    if (anotherPeer && this.latched && !this.fixed && (this.address !== address || this.port !== port)) this.retired = `${this.address} ${this.port}`;
    this.sdpAddress = address;
    this.sdpPort = port;
    this.address = address;
    this.port = port;
    this.latched = false;
    this.fixed = false;
  }

  /** A known peer that no other source may replace. */
  fix(address: string, port: number): void {
    this.sdpAddress = address;
    this.sdpPort = port;
    this.address = address;
    this.port = port;
    this.latched = true;
    this.fixed = true;
  }

  /** A guess that a later latch may still correct, e.g. RTCP on the RTP port + 1. */
  assume(address: string, port: number): void {
    if (this.latched) return;
    this.address = address;
    this.port = port;
  }

  isFrom(rinfo: RemoteInfo): boolean {
    return this.latched && rinfo.port === this.port && rinfo.address === this.address;
  }

  /** Whether a packet from `rinfo`, not the latched source, may take the latch: none yet, or the current one fell silent; never a retired peer. */
  mayLatch(rinfo: RemoteInfo, nowMs: number): boolean {
    if (this.fixed || (this.latched && nowMs - this.lastSeenMs < this.relatchAfterMs)) return false;
    return this.retired === null || this.retired !== `${rinfo.address} ${rinfo.port}`;
  }

  latch(rinfo: RemoteInfo, nowMs: number): void {
    this.address = rinfo.address;
    this.port = rinfo.port;
    this.latched = true;
    this.lastSeenMs = nowMs;
  }

  seen(nowMs: number): void {
    this.lastSeenMs = nowMs;
  }
}
