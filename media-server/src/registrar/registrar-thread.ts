/**
 * A registrar thread (see registrar-threads.ts): its own UDP socket on the
 * SIP port (SO_REUSEPORT), transport, transaction layer, digest authority and
 * registrar, and its own Redis connection for the bindings. It answers the
 * REGISTERs of the phones the kernel sends to its socket and passes every
 * other datagram to the main thread untouched.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Redis } from 'ioredis';
import { createLogger } from '@carillon/config';
import type { SipDeviceCredential } from '@carillon/core';
import { PRESENCE_CHANNEL } from '@carillon/contracts/presence';
import { ChallengeGate } from '../sip/auth/challenge-gate.ts';
import { DigestAuthority } from '../sip/auth/digest-challenge.ts';
import { NonceLedger } from '../sip/auth/nonce-ledger.ts';
import { createResponse } from '../sip/message/index.ts';
import { TransactionLayer } from '../sip/transaction/index.ts';
import { SipTransportLayer } from '../sip/transport/sip-transport-layer.ts';
import { AuthThrottle, sharedThrottle } from './auth-throttle.ts';
import { BindingStore } from './binding-store.ts';
import { CredentialCache } from './credential-cache.ts';
import { Registrar } from './registrar.ts';
import { parentChannel } from '../threads/worker-channel.ts';
import type { RegistrarMainApi, RegistrarThreadApi, RegistrarThreadInit } from './registrar-thread-messages.ts';

const port = parentPort;
if (!port) throw new Error('registrar-thread.ts runs as a worker thread');
const init = workerData as RegistrarThreadInit;
const log = createLogger('media-server', init.logLevel).child(`sip`).child(`registrar-thread-${init.index}`);

const REGISTER = Buffer.from('REGISTER ');
const isRegister = (data: Buffer) => data.length > REGISTER.length && data.compare(REGISTER, 0, REGISTER.length, 0, REGISTER.length) === 0;

let answered = 0;
let stopping: Promise<void> | null = null;
const channel = parentChannel<RegistrarThreadApi, RegistrarMainApi>(port, {
  requests: {
    answered: () => answered,
  },
  notices: {
    'auth-slot-taken': (slot) => failures.count(slot.address, slot.username, slot.at),
    'auth-slot-given-back': (slot) => failures.refund(slot.address, slot.username, slot.at),
    'invalidate-credentials': ({ accountId }) => credentials.invalidateWhere((value) => value === null || value.accountId === accountId),
    stop: () => {
      stopping ??= stop();
    },
  },
});

// The main thread holds the database: a lookup is one request there and back, then cached here.
const credentials = new CredentialCache(
  (username): Promise<SipDeviceCredential | null> => channel.request('credential', { username }),
  init.credentialTtlMs,
);

// This thread's copy of the authentication throttle: it admits its own password checks at once and
// tells the main thread, which counts them and tells the other threads (see sharedThrottle).
const failures = new AuthThrottle(init.authFailuresPerMinute);
const throttle = sharedThrottle(failures, {
  taken: (slot) => channel.notify('auth-slot-taken', slot),
  givenBack: (slot) => channel.notify('auth-slot-given-back', slot),
});

const redis = new Redis(init.redisUrl, { connectionName: `carillon:registrar-thread-${init.index}`, enableAutoPipelining: true });
redis.on('error', (err: Error) => log.warn('redis error', { error: err }));

const transport = new SipTransportLayer({
  host: init.host,
  udpPort: init.udpPort,
  udpReusePort: 'join',
  divertDatagram(data, from) {
    if (isRegister(data)) return false;
    channel.notify('datagram', { data, address: from.address, port: from.port });
    return true;
  },
  logger: log.child('transport'),
});
const transactions = new TransactionLayer(transport, {
  via: init.via,
  ...(init.t1Ms !== undefined ? { timers: { T1: init.t1Ms } } : {}),
  logger: log.child('transaction'),
});
const auth = new DigestAuthority({ realm: init.realm, ttlSeconds: init.nonceTtlSeconds, algorithms: init.algorithms, secret: Buffer.from(init.nonceSecret), nonces: new NonceLedger(redis) });
// REGISTERs without credentials get their 401 with no transaction kept (see ChallengeGate).
const gate = new ChallengeGate({ auth, throttle, perSourcePerSecond: init.challengesPerSourcePerSecond });
transactions.setStatelessFilter((req, source) => gate.answer(req, source));
const registrar = new Registrar({
  auth,
  credentials,
  store: new BindingStore(redis),
  throttle,
  settings: init.registrar,
  events: { onBindingsChanged: ({ accountId }) => void redis.publish(PRESENCE_CHANNEL, accountId).catch(() => undefined) },
});

transactions.onRequest((req, tx, source) => {
  if (req.method !== 'REGISTER') {
    // Only REGISTERs get past divertDatagram; anything else reaching here is a bug, not a peer's fault.
    tx.respond(createResponse(req, 500, { reason: 'Misrouted' }));
    return;
  }
  answered++;
  registrar.handleRegister(req, source).then(
    (res) => tx.respond(res),
    (err: unknown) => {
      log.error('REGISTER failed', { error: err });
      if (tx.canRespond) tx.respond(createResponse(req, 500));
    },
  );
});

async function stop(): Promise<void> {
  transactions.close();
  await transport.stop();
  await redis.quit().catch(() => redis.disconnect());
  port?.close();
}

await transport.start();
channel.announceReady();
