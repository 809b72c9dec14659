/**
 * Session keys from a master key and salt (RFC 3711 §4.3) with the AES-CM
 * PRF and a key derivation rate of 0, the only rate SDES and DTLS-SRTP use:
 * each key is the keystream of AES-128 under the master key, starting at
 * IV = (master salt XOR (label << 48)) << 16.
 */
import { createCipheriv } from 'node:crypto';
import type { SrtpMasterKey } from './srtp-profile.ts';

export const LABEL_RTP_ENCRYPTION = 0;
export const LABEL_RTP_AUTH = 1;
export const LABEL_RTP_SALT = 2;
export const LABEL_RTCP_ENCRYPTION = 3;
export const LABEL_RTCP_AUTH = 4;
export const LABEL_RTCP_SALT = 5;

export interface SrtpSessionKeys {
  cipherKey: Buffer;
  cipherSalt: Buffer;
  authKey: Buffer;
}

export function deriveSrtpKey(master: SrtpMasterKey, label: number, length: number): Buffer {
  if (master.key.length !== 16) throw new RangeError(`SRTP master key must be 16 bytes, got ${master.key.length}`);
  if (master.salt.length !== 14) throw new RangeError(`SRTP master salt must be 14 bytes, got ${master.salt.length}`);
  const blocks = Math.ceil(length / 16);
  const input = Buffer.alloc(blocks * 16);
  for (let b = 0; b < blocks; b++) {
    const at = b * 16;
    input.set(master.salt, at);
    // The label sits 7 bytes from the end of the 112-bit salt: bit 48 of the key id.
    input[at + 7] = input[at + 7]! ^ label;
    input[at + 14] = (b >> 8) & 0xff;
    input[at + 15] = b & 0xff;
  }
  const cipher = createCipheriv('aes-128-ecb', master.key, null).setAutoPadding(false);
  const keystream = Buffer.concat([cipher.update(input), cipher.final()]);
  return keystream.subarray(0, length);
}

export function deriveSrtpSessionKeys(master: SrtpMasterKey, rtcp: boolean): SrtpSessionKeys {
  return {
    cipherKey: deriveSrtpKey(master, rtcp ? LABEL_RTCP_ENCRYPTION : LABEL_RTP_ENCRYPTION, 16),
    cipherSalt: deriveSrtpKey(master, rtcp ? LABEL_RTCP_SALT : LABEL_RTP_SALT, 14),
    authKey: deriveSrtpKey(master, rtcp ? LABEL_RTCP_AUTH : LABEL_RTP_AUTH, 20),
  };
}
