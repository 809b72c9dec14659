/**
 * The SRTP protection profiles implemented here (RFC 3711 default transforms,
 * names as in RFC 4568 SDES and RFC 5764 DTLS-SRTP). Both use AES-128 in
 * counter mode with 112-bit salts; _32 only shortens the SRTP tag: SRTCP keeps
 * 80 bits (RFC 4568 §6.2.1, RFC 5764 §4.1.2).
 */
export type SrtpProfileName = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';

export interface SrtpProfile {
  name: SrtpProfileName;
  masterKeyLength: 16;
  masterSaltLength: 14;
  srtpTagLength: number;
  srtcpTagLength: 10;
}

export const SRTP_PROFILES: Readonly<Record<SrtpProfileName, SrtpProfile>> = {
  AES_CM_128_HMAC_SHA1_80: { name: 'AES_CM_128_HMAC_SHA1_80', masterKeyLength: 16, masterSaltLength: 14, srtpTagLength: 10, srtcpTagLength: 10 },
  AES_CM_128_HMAC_SHA1_32: { name: 'AES_CM_128_HMAC_SHA1_32', masterKeyLength: 16, masterSaltLength: 14, srtpTagLength: 4, srtcpTagLength: 10 },
};

export function srtpProfile(name: string): SrtpProfile {
  const profile = SRTP_PROFILES[name as SrtpProfileName];
  if (!profile) throw new RangeError(`unsupported SRTP profile ${JSON.stringify(name)}; supported: ${Object.keys(SRTP_PROFILES).join(', ')}`);
  return profile;
}

/** The master key and salt of one direction. */
export interface SrtpMasterKey {
  key: Uint8Array;
  salt: Uint8Array;
}
