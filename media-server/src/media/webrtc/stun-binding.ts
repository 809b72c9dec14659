/**
 * The part of STUN (RFC 8489) an ICE-lite agent (RFC 8445 §2.5) needs: check
 * that a Binding request is an ICE connectivity check meant for this leg
 * (USERNAME "ours:theirs", MESSAGE-INTEGRITY keyed by our password,
 * FINGERPRINT), and answer it with the address it came from. A lite agent
 * never sends checks itself; the browser, a full agent, does and nominates.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

const MAGIC_COOKIE = 0x2112a442;
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;
const ATTR_USERNAME = 0x0006;
const ATTR_MESSAGE_INTEGRITY = 0x0008;
const ATTR_XOR_MAPPED_ADDRESS = 0x0020;
const ATTR_USE_CANDIDATE = 0x0025;
const ATTR_FINGERPRINT = 0x8028;
const FINGERPRINT_XOR = 0x5354554e;
const HEADER = 20;

export interface IceCredentials {
  /** Our ufrag and password, as put in our SDP. */
  localUfrag: string;
  localPwd: string;
  /** The peer's ufrag from its SDP, when known (checks may arrive before the answer). */
  remoteUfrag: string | null;
}

export interface BindingCheck {
  transactionId: Buffer;
  useCandidate: boolean;
}

/** First-byte demultiplexing of RFC 7983: 0–3 is STUN. */
export const looksLikeStun = (packet: Buffer): boolean => packet.length >= HEADER && packet[0]! < 4 && packet.readUInt32BE(4) === MAGIC_COOKIE;

/**
 * A valid connectivity check for `credentials`, or null for anything else
 * (responses, indications, checks for another ufrag or with a bad integrity).
 */
export function readBindingCheck(packet: Buffer, credentials: IceCredentials): BindingCheck | null {
  if (!looksLikeStun(packet) || packet.readUInt16BE(0) !== BINDING_REQUEST) return null;
  const length = packet.readUInt16BE(2);
  if (length % 4 !== 0 || HEADER + length > packet.length) return null;
  let username: string | null = null;
  let integrityAt = -1;
  let useCandidate = false;
  for (let at = HEADER; at + 4 <= HEADER + length; ) {
    const type = packet.readUInt16BE(at);
    const size = packet.readUInt16BE(at + 2);
    if (at + 4 + size > HEADER + length) return null;
    if (integrityAt < 0) {
      if (type === ATTR_USERNAME) username = packet.toString('utf8', at + 4, at + 4 + size);
      else if (type === ATTR_USE_CANDIDATE) useCandidate = true;
      else if (type === ATTR_MESSAGE_INTEGRITY) {
        if (size !== 20) return null;
        integrityAt = at;
      }
    }
    at += 4 + ((size + 3) & ~3);
  }
  if (username === null || integrityAt < 0) return null;
  const [ours, theirs] = username.split(':');
  if (ours !== credentials.localUfrag || (credentials.remoteUfrag !== null && theirs !== credentials.remoteUfrag)) return null;
  // The integrity covers the message up to its own attribute, with the length field as if it ended there.
  const covered = Buffer.from(packet.subarray(0, integrityAt));
  covered.writeUInt16BE(integrityAt - HEADER + 24, 2);
  const expected = createHmac('sha1', credentials.localPwd).update(covered).digest();
  if (!timingSafeEqual(expected, packet.subarray(integrityAt + 4, integrityAt + 24))) return null;
  return { transactionId: Buffer.from(packet.subarray(8, 20)), useCandidate };
}

/** A Binding success response carrying the source address of the check (IPv4 or IPv6). */
export function bindingSuccess(check: BindingCheck, address: string, port: number, localPwd: string): Buffer {
  const ipv6 = address.includes(':');
  const addressBytes = ipv6 ? ipv6Bytes(address) : Buffer.from(address.split('.').map(Number));
  const xorAttr = Buffer.alloc(4 + 4 + addressBytes.length);
  xorAttr.writeUInt16BE(ATTR_XOR_MAPPED_ADDRESS, 0);
  xorAttr.writeUInt16BE(4 + addressBytes.length, 2);
  xorAttr[5] = ipv6 ? 0x02 : 0x01;
  xorAttr.writeUInt16BE(port ^ (MAGIC_COOKIE >>> 16), 6);
  const mask = Buffer.alloc(16);
  mask.writeUInt32BE(MAGIC_COOKIE, 0);
  check.transactionId.copy(mask, 4);
  for (let i = 0; i < addressBytes.length; i++) xorAttr[8 + i] = addressBytes[i]! ^ mask[i]!;

  const header = Buffer.alloc(HEADER);
  header.writeUInt16BE(BINDING_SUCCESS, 0);
  header.writeUInt32BE(MAGIC_COOKIE, 4);
  check.transactionId.copy(header, 8);

  header.writeUInt16BE(xorAttr.length + 24, 2);
  const integrity = Buffer.alloc(24);
  integrity.writeUInt16BE(ATTR_MESSAGE_INTEGRITY, 0);
  integrity.writeUInt16BE(20, 2);
  createHmac('sha1', localPwd).update(header).update(xorAttr).digest().copy(integrity, 4);

  header.writeUInt16BE(xorAttr.length + 24 + 8, 2);
  const fingerprint = Buffer.alloc(8);
  fingerprint.writeUInt16BE(ATTR_FINGERPRINT, 0);
  fingerprint.writeUInt16BE(4, 2);
  const crc = crc32(integrity, crc32(xorAttr, crc32(header)));
  fingerprint.writeUInt32BE((crc ^ FINGERPRINT_XOR) >>> 0, 4);
  return Buffer.concat([header, xorAttr, integrity, fingerprint]);
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.split('::') as [string, string | undefined];
  const groups = (s: string | undefined) => (s ? s.split(':').filter(Boolean) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}
