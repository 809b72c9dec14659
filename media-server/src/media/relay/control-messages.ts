/**
 * What the MediaEngine (main thread) and its workers say to each other over
 * the worker's MessagePort. Control only: packets never cross it. Every
 * request carries an id and gets exactly one reply; events flow from the
 * worker unprompted.
 */
import type { RtpStreamStatsSnapshot } from '../rtp/rtp-stream-stats.ts';
import type { SrtpProfileName } from '../srtp/srtp-profile.ts';
import type { DtmfDigit } from '../dtmf/dtmf-digits.ts';

/** Codecs a leg can carry: G.711 for phones and trunks, Opus (48 kHz) for browsers. */
export type LegCodecName = 'PCMU' | 'PCMA' | 'OPUS';

/**
 * What makes a leg a WebRTC leg (RFC 8834): ICE-lite connectivity checks
 * answered on its socket, then DTLS-SRTP whose keys feed the leg's own SRTP.
 * Media is refused from any address that has not passed an ICE check.
 */
export interface WebRtcLegSpec {
  ice: { localUfrag: string; localPwd: string; remoteUfrag: string | null };
  dtls: { role: 'server' | 'client'; remoteFingerprint: string };
}

/**
 * SDP direction of our side of the leg: 'sendonly' means we send media to
 * the leg and drop what it sends (muted), 'recvonly' that we take its media
 * but send nothing (the usual answer to a hold), 'inactive' neither.
 */
export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface RemoteMediaAddress {
  address: string;
  rtpPort: number;
  /** Defaults to rtpPort + 1 (RFC 3550), or rtpPort with rtcpMux. */
  rtcpPort?: number;
}

export interface SrtpLegKeys {
  profile: SrtpProfileName;
  /** Our master key and salt (what we protect with). */
  local: { key: Uint8Array; salt: Uint8Array };
  /** The peer's master key and salt. */
  remote: { key: Uint8Array; salt: Uint8Array };
}

/** A leg as the SIP side describes it from the negotiated SDP. */
export interface LegSpec {
  legId: string;
  codec: { name: LegCodecName; payloadType: number };
  /** Payload type of telephone-event/8000, or null when the peer did not offer it. */
  telephoneEventPayloadType?: number | null;
  /** Unknown until the peer's SDP arrives; latching fills it from the first packets anyway. */
  remote?: RemoteMediaAddress | null;
  rtcpMux?: boolean;
  srtp?: SrtpLegKeys | null;
  /** 'keep' forwards the source's SSRC, sequence and timestamps untouched until the source changes. */
  ssrcMode?: 'rewrite' | 'keep';
  direction?: MediaDirection;
  /** Also listen for DTMF tones inside the audio (for gateways that do not send RFC 4733). */
  inbandDtmf?: boolean;
  /** CNAME for the RTCP this leg generates (RFC 3550 §6.5.1). */
  cname?: string;
  /**
   * false: media is taken only from `remote` and never latched elsewhere
   * (a link between two of our own bridges, where a stray source is a bug).
   */
  latch?: boolean;
  /** Our SSRC towards the leg, when SDP announced it (a=ssrc, which some WebRTC stacks need). */
  ssrc?: number;
  /** Present for a browser leg; its SRTP keys then come from DTLS, not from `srtp`. */
  webrtc?: WebRtcLegSpec | null;
}

export type LegUpdate = Partial<Omit<LegSpec, 'legId'>>;

/** Everything the worker needs to run a leg: the spec plus the ports the engine allocated. */
export interface LegConfig extends LegSpec {
  bindAddress: string;
  rtpPort: number;
  rtcpPort: number;
}

export interface LocalMediaAddress {
  address: string;
  rtpPort: number;
  rtcpPort: number;
}

export type PlaybackSource =
  | { file: string }
  /** 8 kHz mono 16-bit PCM. */
  | { pcm: Int16Array };

export interface PlaybackOptions {
  loop?: boolean;
}

export interface RecordingOptions {
  /** 16-bit PCM WAV, 8 kHz stereo, is the only format today. */
  format?: 'wav';
}

export interface RecordingResult {
  /** Absolute path of the finished file. */
  path: string;
  /** Length of the recording on the 20 ms media clock. */
  durationMs: number;
  /** Size of the file, header included. */
  bytes: number;
}

/**
 * Why a recording ended: asked for, the bridge closed under it, the WAV
 * format's 4 GiB limit (about 37 hours), or the disk failed or fell behind.
 */
export type RecordingStopReason = 'requested' | 'bridge-closed' | 'size-limit' | 'write-error';

export interface LegStats {
  legId: string;
  /** The RTP stream received from the leg. */
  received: RtpStreamStatsSnapshot;
  sent: { packets: number; bytes: number };
  /** Where media is sent, after latching. */
  remote: { address: string; rtpPort: number; rtcpPort: number } | null;
  latched: boolean;
  /** Packets dropped before the relay: wrong source, unknown payload type, malformed, failed SRTP. */
  dropped: number;
  rtcpReceived: number;
}

export type MediaEvent =
  | { type: 'dtmf'; bridgeId: string; legId: string; digit: DtmfDigit; durationMs: number; source: 'rfc4733' | 'inband' }
  | { type: 'latched'; bridgeId: string; legId: string; channel: 'rtp' | 'rtcp'; address: string; port: number }
  | { type: 'playback-ended'; bridgeId: string; legId: string; playbackId: number }
  | { type: 'dtmf-sent'; bridgeId: string; legId: string; digits: string }
  | { type: 'leg-error'; bridgeId: string; legId: string; message: string }
  /** A WebRTC leg finished its DTLS handshake: media can flow. */
  | { type: 'dtls-connected'; bridgeId: string; legId: string }
  | ({ type: 'recording-stopped'; bridgeId: string; reason: RecordingStopReason; error?: string } & RecordingResult);

export type WorkerRequest =
  | { op: 'create-bridge'; bridgeId: string }
  | { op: 'destroy-bridge'; bridgeId: string }
  | { op: 'add-leg'; bridgeId: string; leg: LegConfig }
  | { op: 'update-leg'; bridgeId: string; legId: string; update: LegUpdate }
  | { op: 'remove-leg'; bridgeId: string; legId: string }
  | { op: 'play'; bridgeId: string; legId: string; source: PlaybackSource; options: PlaybackOptions }
  | { op: 'stop-playback'; bridgeId: string; legId: string }
  | { op: 'send-dtmf'; bridgeId: string; legId: string; digits: string; durationMs: number }
  | { op: 'get-stats'; bridgeId: string }
  | { op: 'start-recording'; bridgeId: string; path: string; options: RecordingOptions }
  | { op: 'stop-recording'; bridgeId: string }
  | { op: 'shutdown' };

export type WorkerRequestMessage = WorkerRequest & { id: number };

/** Results by request kind, so both sides agree on what a reply holds. */
export interface WorkerResults {
  'create-bridge': null;
  'destroy-bridge': null;
  'add-leg': null;
  'update-leg': null;
  'remove-leg': null;
  play: { playbackId: number };
  'stop-playback': null;
  'send-dtmf': null;
  'get-stats': LegStats[];
  'start-recording': null;
  'stop-recording': RecordingResult;
  shutdown: null;
}

export type WorkerMessage =
  | { kind: 'reply'; id: number; ok: true; result: unknown }
  | { kind: 'reply'; id: number; ok: false; error: string; code?: string }
  | { kind: 'event'; event: MediaEvent }
  | { kind: 'ready' };
