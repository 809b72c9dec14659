/**
 * SRTP cost per packet: Carillon's lean AES_CM_128_HMAC_SHA1_80 (one reused
 * ECB cipher for the keystream, pre-keyed HMAC states) against werift's
 * SrtpSession (a cipher and an HMAC created per packet). 160-byte payloads,
 * a 20 ms G.711 frame. Prints µs per operation; no asserts.
 *
 *   npx node bench/srtp.ts [packets]
 */
import { randomBytes } from 'node:crypto';
import { RtpHeader, SrtpSession } from 'werift';
import { writeRtpHeader } from '../media-server/src/media/rtp/rtp-header.ts';
import { SrtpContext } from '../media-server/src/media/srtp/srtp-context.ts';
import { generateSrtpMasterKey } from '../media-server/src/media/srtp/sdes-crypto.ts';

const PACKETS = Math.min(60_000, Number(process.argv[2] ?? 50_000));
const PAYLOAD = 160;
const WERIFT_AES_CM_80 = 1;

const key = generateSrtpMasterKey();
const payload = randomBytes(PAYLOAD);
const plain = Array.from({ length: PACKETS }, (_, i) => {
  const b = Buffer.alloc(12 + PAYLOAD);
  writeRtpHeader(b, { payloadType: 0, sequenceNumber: i & 0xffff, timestamp: i * 160, ssrc: 0x1234 });
  payload.copy(b, 12);
  return b;
});

function time(label: string, run: () => void): number {
  const start = process.hrtime.bigint();
  run();
  const us = Number(process.hrtime.bigint() - start) / 1000 / PACKETS;
  console.log(`${label.padEnd(34)} ${us.toFixed(2).padStart(7)} µs/packet`);
  return us;
}

// --- ours ---
const ourTx = new SrtpContext(key, 'AES_CM_128_HMAC_SHA1_80');
const out = Buffer.alloc(1500);
const ourProtected: Buffer[] = [];
// Warm-up, and the packets the unprotect run decrypts.
for (const p of plain) {
  const n = ourTx.protect(p, p.length, out);
  ourProtected.push(Buffer.from(out.subarray(0, n)));
}
const benchTx = new SrtpContext(key, 'AES_CM_128_HMAC_SHA1_80');
const oursProtect = time('carillon protect', () => {
  for (const p of plain) benchTx.protect(p, p.length, out);
});
const scratch = Buffer.alloc(1500);
const ourRx = new SrtpContext(key, 'AES_CM_128_HMAC_SHA1_80');
let failures = 0;
const oursUnprotect = time('carillon unprotect (+ copy)', () => {
  for (const p of ourProtected) {
    // In-place decryption: work on a copy so each packet is fresh, as a received datagram is.
    p.copy(scratch);
    if (ourRx.unprotect(scratch, p.length) < 0) failures++;
  }
});

// --- werift ---
const keys = { localMasterKey: Buffer.from(key.key), localMasterSalt: Buffer.from(key.salt), remoteMasterKey: Buffer.from(key.key), remoteMasterSalt: Buffer.from(key.salt) };
const werift = new SrtpSession({ keys, profile: WERIFT_AES_CM_80 });
const headers = plain.map((_, i) => new RtpHeader({ payloadType: 0, sequenceNumber: i & 0xffff, timestamp: i * 160, ssrc: 0x1234 }));
for (let i = 0; i < 2000; i++) werift.encrypt(payload, headers[i]!);
const weriftTx = new SrtpSession({ keys, profile: WERIFT_AES_CM_80 });
const weriftProtect = time('werift encrypt', () => {
  for (const h of headers) weriftTx.encrypt(payload, h);
});
const weriftRx = new SrtpSession({ keys, profile: WERIFT_AES_CM_80 });
const weriftUnprotect = time('werift decrypt (+ copy)', () => {
  for (const p of ourProtected) {
    p.copy(scratch);
    weriftRx.decrypt(scratch.subarray(0, p.length));
  }
});

console.log(`\n${PACKETS} packets of ${PAYLOAD} payload bytes, AES_CM_128_HMAC_SHA1_80, Node ${process.version}`);
console.log(`protect:   carillon is ${(weriftProtect / oursProtect).toFixed(1)}x faster than werift`);
console.log(`unprotect: carillon is ${(weriftUnprotect / oursUnprotect).toFixed(1)}x faster than werift`);
if (failures > 0) console.log(`(${failures} carillon unprotect failures: the figures are not valid)`);
