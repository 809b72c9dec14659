/**
 * NTP timestamps (RFC 3550 §4) as milliseconds since 1900 in a double: 53 bits
 * hold them with sub-microsecond precision, which spares a BigInt or a
 * two-word object on every report.
 */
const NTP_UNIX_OFFSET_MS = 2_208_988_800_000;
const TWO_POW_32 = 0x1_0000_0000;

export function ntpFromUnixMs(unixMs: number): number {
  return unixMs + NTP_UNIX_OFFSET_MS;
}

export function writeNtpTimestamp(buf: Uint8Array, at: number, ntpMs: number): void {
  const seconds = Math.floor(ntpMs / 1000);
  const fraction = Math.floor(((ntpMs - seconds * 1000) / 1000) * TWO_POW_32);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  view.setUint32(at, seconds >>> 0);
  view.setUint32(at + 4, fraction >>> 0);
}

export function readNtpTimestamp(buf: Uint8Array, at: number): number {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return view.getUint32(at) * 1000 + (view.getUint32(at + 4) / TWO_POW_32) * 1000;
}

/** The "middle 32 bits" echoed as LSR in report blocks: seconds and fraction in 16.16. */
export function ntpMiddle32(ntpMs: number): number {
  return Math.floor((ntpMs / 1000) * 65536) >>> 0;
}
