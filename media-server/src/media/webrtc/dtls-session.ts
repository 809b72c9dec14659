/**
 * DTLS-SRTP (RFC 5763, RFC 5764) on a leg's own socket: werift's DTLS
 * handshake runs over a transport that sends through the leg, and once it
 * completes the peer's certificate is checked against the fingerprint of its
 * SDP and the SRTP master keys are exported for the leg's own lean SRTP.
 * werift's SRTP is not used: it builds cipher objects per packet.
 */
import { DtlsClient, DtlsServer, HashAlgorithm, ProtectionProfileAes128CmHmacSha1_80, SignatureAlgorithm, type DtlsSocket } from 'werift';
import type { SrtpLegKeys } from '../engine/control-messages.ts';
import { certificateFingerprint } from './dtls-certificate.ts';

export interface DtlsSessionOptions {
  /** 'server' when our SDP said a=setup:passive, 'client' for active. */
  role: 'server' | 'client';
  certPem: string;
  keyPem: string;
  /** The peer's a=fingerprint, "sha-256 AB:…". */
  remoteFingerprint: string;
  send(packet: Buffer): void;
  onKeys(keys: SrtpLegKeys): void;
  onError(message: string): void;
}

const normalise = (fingerprint: string) => fingerprint.trim().toLowerCase().replace(/\s+/g, ' ');

export class DtlsSession {
  private readonly socket: DtlsSocket;
  private readonly transport: { onData: (data: Buffer) => void };
  private readonly options: DtlsSessionOptions;
  private done = false;
  private closed = false;

  constructor(options: DtlsSessionOptions) {
    this.options = options;
    const transport = {
      type: 'udp',
      address: {} as never,
      closed: false,
      onData: (_data: Buffer) => undefined as void,
      send: async (data: Buffer) => {
        if (!this.closed) options.send(data);
      },
      close: async () => undefined,
    };
    this.transport = transport;
    const common = {
      cert: options.certPem,
      key: options.keyPem,
      signatureHash: { signature: SignatureAlgorithm.ecdsa_3, hash: HashAlgorithm.sha256_4 },
      transport,
      srtpProfiles: [ProtectionProfileAes128CmHmacSha1_80],
      extendedMasterSecret: true,
    };
    this.socket = options.role === 'server' ? new DtlsServer({ ...common, certificateRequest: true }) : new DtlsClient(common);
    this.socket.onConnect.once(() => this.connected());
    this.socket.onError.subscribe((err: Error) => this.fail(`DTLS: ${err.message}`));
    if (this.socket instanceof DtlsClient) {
      this.socket.connect().catch((err: unknown) => this.fail(`DTLS connect: ${err instanceof Error ? err.message : String(err)}`));
    }
  }

  /** A DTLS record from the peer (first byte 20–63, RFC 7983). */
  receive(packet: Buffer): void {
    if (this.closed) return;
    // The handshake keeps the buffer past this call; the leg reuses its receive buffers.
    this.transport.onData(Buffer.from(packet));
  }

  private connected(): void {
    if (this.done || this.closed) return;
    const der = this.socket.remoteCertificate;
    if (!der) return this.fail('DTLS: the peer sent no certificate');
    if (normalise(certificateFingerprint(der)) !== normalise(this.options.remoteFingerprint)) {
      return this.fail('DTLS: the peer certificate does not match the SDP fingerprint');
    }
    this.done = true;
    const { localKey, localSalt, remoteKey, remoteSalt } = this.socket.extractSessionKeys(16, 14);
    this.options.onKeys({
      profile: 'AES_CM_128_HMAC_SHA1_80',
      local: { key: new Uint8Array(localKey), salt: new Uint8Array(localSalt) },
      remote: { key: new Uint8Array(remoteKey), salt: new Uint8Array(remoteSalt) },
    });
  }

  private fail(message: string): void {
    if (this.closed) return;
    this.options.onError(message);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.socket.close();
    } catch {
      // Closing a handshake that never started has nothing to release.
    }
  }
}
