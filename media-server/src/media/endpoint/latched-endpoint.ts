/**
 * Where one channel (RTP or RTCP) of a leg sends, learned first from SDP and
 * then from where the peer's packets really come from (symmetric RTP,
 * RFC 4961: "latching"), which is what gets media through NATs. Once
 * latched, packets from any other source are refused until the latched one
 * has been silent for a while, so a stranger cannot take a call's media over
 * while it flows, yet a phone whose NAT binding changed is followed.
 */
import type { RemoteInfo } from 'node:dgram';

export class LatchedEndpoint {
  address: string | null = null;
  port = 0;
  latched = false;
  private lastSeenMs = 0;
  private fixed = false;
  private readonly relatchAfterMs: number;

  constructor(relatchAfterMs: number) {
    this.relatchAfterMs = relatchAfterMs;
  }

  /** The address from SDP: used until packets arrive, and latching starts over. */
  expect(address: string | null, port: number): void {
    this.address = address;
    this.port = port;
    this.latched = false;
    this.fixed = false;
  }

  /** A known peer that no other source may replace. */
  fix(address: string, port: number): void {
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

  /** Whether a packet from another source may take the latch: none yet, or the current one fell silent. */
  mayLatch(nowMs: number): boolean {
    return !this.fixed && (!this.latched || nowMs - this.lastSeenMs >= this.relatchAfterMs);
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
