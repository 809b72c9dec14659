/**
 * The DTLS certificate of this media-server process: one self-signed ECDSA
 * P-256 certificate made at start-up (WebRTC peers check its fingerprint
 * from SDP, not a CA chain, RFC 8827 §6.5), shared by every worker.
 */
import { X509Certificate } from 'node:crypto';
import { CipherContext, HashAlgorithm, NamedCurveAlgorithm, SignatureAlgorithm } from 'werift';

export interface DtlsCertificate {
  certPem: string;
  keyPem: string;
  /** "sha-256 AB:CD:…", as an SDP a=fingerprint value (RFC 8122). */
  fingerprint: string;
}

export async function createDtlsCertificate(): Promise<DtlsCertificate> {
  const { certPem, keyPem } = await CipherContext.createSelfSignedCertificateWithKey(
    { signature: SignatureAlgorithm.ecdsa_3, hash: HashAlgorithm.sha256_4 },
    NamedCurveAlgorithm.secp256r1_23,
  );
  return { certPem, keyPem, fingerprint: `sha-256 ${new X509Certificate(certPem).fingerprint256}` };
}

/** The SDP fingerprint of a DER certificate, for comparing with what the peer announced. */
export function certificateFingerprint(der: Buffer): string {
  return `sha-256 ${new X509Certificate(der).fingerprint256}`;
}
