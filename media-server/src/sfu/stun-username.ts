/**
 * The USERNAME of a STUN message (RFC 8489 §14.3), before any integrity
 * check: the shared port set needs it to find which transport a
 * connectivity check is for; that transport then checks MESSAGE-INTEGRITY.
 */
const HEADER = 20;
const ATTR_USERNAME = 0x0006;

export function stunUsername(packet: Buffer): string | null {
  if (packet.length < HEADER) return null;
  const end = Math.min(packet.length, HEADER + packet.readUInt16BE(2));
  for (let at = HEADER; at + 4 <= end; ) {
    const type = packet.readUInt16BE(at);
    const size = packet.readUInt16BE(at + 2);
    if (at + 4 + size > end) return null;
    if (type === ATTR_USERNAME) return packet.toString('utf8', at + 4, at + 4 + size);
    at += 4 + ((size + 3) & ~3);
  }
  return null;
}
