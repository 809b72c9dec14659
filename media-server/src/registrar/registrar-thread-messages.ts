import type { Config } from '@carillon/config';
import type { SipDeviceCredential } from '@carillon/core';
import type { DigestAlgorithm } from '../sip/auth/digest-challenge.ts';
import type { SipTransportProtocol } from '../sip/transport/index.ts';
import type { RegistrarSettings } from './registrar.ts';

/** What a registrar thread is started with (its `workerData`). */
export interface RegistrarThreadInit {
  index: number;
  host: string;
  /** The UDP port the main thread already holds with SO_REUSEPORT. */
  udpPort: number;
  /** Address and ports written in Via by this thread's transaction layer (the main thread's). */
  via: { host: string; ports: Partial<Record<SipTransportProtocol, number>> };
  redisUrl: string;
  realm: string;
  nonceTtlSeconds: number;
  algorithms: DigestAlgorithm[];
  /** The nodes' shared nonce secret, so that a nonce from any thread or node checks everywhere. */
  nonceSecret: Uint8Array;
  credentialTtlMs: number;
  /** The per-source rate of stateless challenges (see ChallengeGate). */
  challengesPerSourcePerSecond: number;
  registrar: RegistrarSettings;
  t1Ms?: number;
  logLevel: Config['LOG_LEVEL'];
}

/** Thread → main thread. */
export type RegistrarThreadMessage =
  | { type: 'ready' }
  /** Anything but a REGISTER: calls, responses and in-dialog requests belong to the main thread. */
  | { type: 'datagram'; data: Uint8Array; address: string; port: number }
  | { type: 'credential'; id: number; username: string }
  | { type: 'auth-failure'; address: string; username: string }
  | { type: 'answered'; registers: number };

/** Main thread → thread. */
export type RegistrarMainMessage =
  | { type: 'credential'; id: number; value: SipDeviceCredential | null; error?: string }
  /** The main thread counts every thread's failures; past the limit, every thread refuses the key (see throttleKeys). */
  | { type: 'throttled'; key: string; until: number }
  /** The app changed an account's devices or extensions: drop its cached credentials (and cached misses). */
  | { type: 'invalidate-credentials'; accountId: string }
  /** How many REGISTERs the thread has answered (health and tests). */
  | { type: 'answered' }
  | { type: 'stop' };
