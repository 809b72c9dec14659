/**
 * The SRTP receive side's replay protection (RFC 3711 §3.3.2) through
 * SrtpContext.unprotect(), with the RFC's minimum window of 64 packets:
 * in order, reordered within the window, duplicates, packets too old, and
 * all of it across a sequence number wraparound (the ROC moving to 1).
 */
import { describe, expect, it } from 'vitest';
import { SrtpContext } from '../../src/media/srtp/srtp-context.ts';
import { generateSrtpMasterKey } from '../../src/media/srtp/sdes-crypto.ts';

const FIRST_SEQ = 65500;
const COUNT = 100;

function rtp(seq: number, ssrc: number, marker: number): Buffer {
  const buf = Buffer.alloc(12 + 20, marker);
  buf[0] = 0x80;
  buf[1] = 0;
  buf.writeUInt16BE(seq, 2);
  buf.writeUInt32BE(seq * 160, 4);
  buf.writeUInt32BE(ssrc, 8);
  return buf;
}

/** Packet i has sequence number FIRST_SEQ + i (mod 2^16) and a payload of byte i. */
function protectedStream() {
  const master = generateSrtpMasterKey();
  const tx = new SrtpContext(master, 'AES_CM_128_HMAC_SHA1_80');
  const rx = new SrtpContext(master, 'AES_CM_128_HMAC_SHA1_80', { replayWindowSize: 64 });
  const packets = Array.from({ length: COUNT }, (_, i) => {
    const plain = rtp((FIRST_SEQ + i) & 0xffff, 0xcafe, i);
    const out = Buffer.alloc(plain.length + 10);
    return out.subarray(0, tx.protect(plain, plain.length, out));
  });
  /** Delivers packet i; its payload byte when accepted, -1 when refused. */
  const deliver = (i: number): number => {
    const copy = Buffer.from(packets[i]!);
    return rx.unprotect(copy, copy.length) < 0 ? -1 : copy[12]!;
  };
  return { rx, packets, deliver };
}

describe('SRTP replay window (RFC 3711 §3.3.2), 64 packets', () => {
  it('accepts in-order and reordered packets once, refuses duplicates and packets older than the window, across the wraparound', () => {
    const { rx, deliver } = protectedStream();
    const heldBack = new Set([34, 35, 37, 40]);
    // In order, 0..60, except four held back; seq 65535 is packet 35, seq 0 (ROC 1) packet 36.
    for (let i = 0; i <= 60; i++) if (!heldBack.has(i)) expect(deliver(i), `packet ${i}`).toBe(i);
    expect(rx.replayed).toBe(0);
    // A duplicate, just after the wrap and well before it.
    expect(deliver(36)).toBe(-1);
    expect(deliver(10)).toBe(-1);
    expect(rx.replayed).toBe(2);
    // Reordered within the window: accepted once, with the right ROC (payload decrypts).
    expect(deliver(40)).toBe(40);
    expect(deliver(35)).toBe(35);
    expect(deliver(40)).toBe(-1);
    expect(rx.replayed).toBe(3);
    // The window moves on to packet 99: 99 - 37 = 62 is still inside; 34, never seen, is 65 behind: too old.
    for (let i = 61; i < COUNT; i++) expect(deliver(i), `packet ${i}`).toBe(i);
    expect(deliver(37)).toBe(37);
    expect(deliver(34)).toBe(-1);
    expect(deliver(35)).toBe(-1);
    expect(deliver(0)).toBe(-1);
    expect(rx.replayed).toBe(6);
    expect(rx.authFailures).toBe(0);
  });

  it('a packet that fails authentication does not move the window', () => {
    const { rx, packets, deliver } = protectedStream();
    for (let i = 0; i < 10; i++) deliver(i);
    // A forgery far ahead: if it moved the window, packets 10.. would be refused as too old.
    const forged = Buffer.from(packets[10]!);
    forged.writeUInt16BE((FIRST_SEQ + 5000) & 0xffff, 2);
    expect(rx.unprotect(forged, forged.length)).toBe(-1);
    expect(rx.authFailures).toBe(1);
    for (let i = 10; i < 20; i++) expect(deliver(i)).toBe(i);
    expect(rx.replayed).toBe(0);
  });
});
