import type { Config } from '@carillon/config';
import type { SipDeviceCredential } from '@carillon/core';
import type { DigestAlgorithm } from '../sip/auth/digest-challenge.ts';
import type { AuthSlot } from './auth-throttle.ts';
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
  /** The limit of the thread's copy of the authentication throttle (AuthThrottle), the main thread's. */
  authFailuresPerMinute: number;
  /** The per-source rate of stateless challenges (see ChallengeGate). */
  challengesPerSourcePerSecond: number;
  registrar: RegistrarSettings;
  t1Ms?: number;
  logLevel: Config['LOG_LEVEL'];
}

/**
 * What the main thread answers and hears from a registrar thread, over their
 * worker channel (threads/worker-channel.ts).
 */
export type RegistrarMainApi = {
  requests: {
    /** A device's credential, from the main thread's database (null: no such device). */
    credential: { params: { username: string }; result: SipDeviceCredential | null };
  };
  notices: {
    /** Anything but a REGISTER: calls, responses and in-dialog requests belong to the main thread. */
    datagram: { data: Uint8Array; address: string; port: number };
    /** The thread's copy of the authentication throttle took a slot (see sharedThrottle): the main thread counts it and tells the other threads. */
    'auth-slot-taken': AuthSlot;
    /** It gave one back (the password was right). */
    'auth-slot-given-back': AuthSlot;
  };
};

/** What a registrar thread answers and hears from the main thread. */
export type RegistrarThreadApi = {
  requests: {
    /** How many REGISTERs the thread has answered (health and tests). */
    answered: { params: null; result: number };
  };
  notices: {
    /** The main thread or another thread took a slot of the authentication throttle: this thread's copy counts it too. */
    'auth-slot-taken': AuthSlot;
    /** It gave one back. */
    'auth-slot-given-back': AuthSlot;
    /** The app changed an account's devices or extensions: drop its cached credentials (and cached misses). */
    'invalidate-credentials': { accountId: string };
    stop: null;
  };
};
