/**
 * What the MediaEngine (main thread) and its workers say to each other, as
 * the two APIs of their worker channel (threads/worker-channel.ts), and the
 * shapes both sides share: endpoint specs, statistics, events. Control only:
 * packets never cross it.
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
  /**
   * The id of the RFC 6464 client-to-mixer audio level header extension in
   * the negotiated SDP (a=extmap:<id> urn:ietf:params:rtp-hdrext:ssrc-audio-level,
   * RFC 8285), or null: a room then measures the level from the payload.
   */
  audioLevelExtensionId?: number | null;
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

/**
 * Something an endpoint or a container reports. `bridgeId` names the
 * container (bridge or room) holding the endpoint when it happened, and
 * `legId` the endpoint's id in it.
 */
export type MediaEvent =
  | { type: 'dtmf'; bridgeId: string; legId: string; digit: DtmfDigit; durationMs: number; source: 'rfc4733' | 'inband' }
  | { type: 'latched'; bridgeId: string; legId: string; channel: 'rtp' | 'rtcp'; address: string; port: number }
  | { type: 'playback-ended'; bridgeId: string; legId: string; playbackId: number }
  | { type: 'dtmf-sent'; bridgeId: string; legId: string; digits: string }
  | { type: 'leg-error'; bridgeId: string; legId: string; message: string }
  /** A WebRTC leg finished its DTLS handshake: media can flow. */
  | { type: 'dtls-connected'; bridgeId: string; legId: string }
  /**
   * A room's talkers changed (mixer/talker-selector.ts): the endpoints now
   * mixed, in the order they were chosen, as of the room's `tick`-th 20 ms tick.
   */
  | { type: 'talkers'; bridgeId: string; legIds: string[]; tick: number }
  /**
   * Every peer of the container (pipe ends aside) has sent no RTP or RTCP
   * for longer than the media timeout (engine/media-timeout.ts): `legIds`
   * are those peers, `silentMs` how long the most recent one has been
   * silent. Repeated every timeout while the silence lasts.
   */
  | { type: 'media-timeout'; bridgeId: string; legIds: string[]; silentMs: number }
  | ({ type: 'recording-stopped'; bridgeId: string; reason: RecordingStopReason; error?: string } & RecordingResult);

/** The worker's two kinds of endpoint containers: a two-party bridge, or a room of N. */
export type ContainerKind = 'bridge' | 'room';

/** A room's settings, fixed when it is created. */
export interface RoomOptions {
  /** How many members are mixed at once, the loudest (1–16, 3 by default). */
  talkers?: number;
}

/** What a room's mixer did since it was created: to check that idle members cost nothing, and for benchmarks. */
export interface MixerStats {
  /** 20 ms ticks mixed. */
  ticks: number;
  talkers: string[];
  /** RTP packets the room took in (muted endpoints drop theirs before the room). */
  packetsIn: number;
  /** Packets whose level came from the RFC 6464 header, and from the G.711 payload's energy. */
  levelsFromHeader: number;
  levelsFromPayload: number;
  /** Payloads decoded, in all and per endpoint (only talkers are ever decoded). */
  decodedPackets: number;
  decodedByEndpoint: Record<string, number>;
  /** Frames made up for a talker's lost packet (repeat the last, attenuated). */
  concealedFrames: number;
  /** Packets dropped by the talkers' jitter buffers: late, or beyond the buffer's bound. */
  lateOrSkippedPackets: number;
  /** Encodes of a talker's own N−1 mix. */
  talkerEncodes: number;
  /** Encodes of the shared mix, per codec: at most one per tick each. */
  sharedEncodes: Record<string, number>;
  /** Packets of the shared mix sent (the same payload to every listener of a codec). */
  sharedPackets: number;
  /**
   * From a talker's packet arriving to the start of the tick that mixes it
   * (the jitter buffer's wait), in ms: the p50 and p99 bucket edges. The
   * mixed packets leave within that tick's duration after.
   */
  mixDelayMs: { p50: number; p99: number; count: number };
  /** How long each tick's work took, in ms (its last listener's packet left then). */
  tickDurationMs: { p50: number; p99: number; count: number };
  /** The two histograms behind these (1 ms buckets, the last for anything longer), to take percentiles over a window. */
  mixDelayHistogram: number[];
  tickDurationHistogram: number[];
}

/** What a media worker answers (one request, one reply) over the worker channel (threads/worker-channel.ts). */
export type MediaWorkerApi = {
  requests: {
    'create-container': { params: { containerId: string; kind: ContainerKind; room?: RoomOptions }; result: null };
    /** Closes the container and every endpoint in it; the reply waits for a recording to be finalized. */
    'destroy-container': { params: { containerId: string }; result: null };
    'add-endpoint': { params: { containerId: string; endpoint: LegConfig }; result: null };
    'update-endpoint': { params: { containerId: string; endpointId: string; update: LegUpdate }; result: null };
    'remove-endpoint': { params: { containerId: string; endpointId: string }; result: null };
    /** Moves an open endpoint (its sockets, latching, keys and RTP stream) to another container of the same worker. */
    'move-endpoint': { params: { from: string; endpointId: string; to: string; as: string }; result: null };
    play: { params: { containerId: string; endpointId: string; source: PlaybackSource; options: PlaybackOptions }; result: { playbackId: number } };
    'stop-playback': { params: { containerId: string; endpointId: string }; result: null };
    'send-dtmf': { params: { containerId: string; endpointId: string; digits: string; durationMs: number }; result: null };
    'get-stats': { params: { containerId: string }; result: LegStats[] };
    'mixer-stats': { params: { containerId: string }; result: MixerStats };
    /** Whom a room's member hears: member ids, or null for everyone (call monitoring). */
    'set-hears': { params: { containerId: string; endpointId: string; hears: string[] | null }; result: null };
    'start-recording': { params: { containerId: string; path: string; options: RecordingOptions }; result: null };
    'stop-recording': { params: { containerId: string }; result: RecordingResult };
    /** The worker's packet I/O (MEDIA_NATIVE): "native" (the addon) or "dgram". */
    'packet-io': { params: null; result: 'native' | 'dgram' };
    shutdown: { params: null; result: null };
  };
  notices: Record<never, never>;
}

/** What the main thread hears from a media worker: its events, unprompted. */
export type MediaMainApi = {
  requests: Record<never, never>;
  notices: { 'media-event': MediaEvent };
}
