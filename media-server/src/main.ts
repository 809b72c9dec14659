/**
 * The media-server process: the SIP edge (registrar and call engine) and the
 * media engine's worker threads, plus a heartbeat in Redis so the app can
 * show which nodes are up.
 * Exit codes: 0 after a shutdown signal, 78 (EX_CONFIG) for bad configuration.
 */
import { Redis } from 'ioredis';
import { ConfigError, createLogger, loadConfigOrExit } from '@carillon/config';
import { loadSecretKey, secretBox } from '@carillon/core';
import { openDatabase } from '@carillon/db';
import { MediaEngine } from './media/index.ts';
import { SipEdge } from './sip/edge/sip-edge.ts';
import { closeCallsLeftOpen } from './calls/calls-left-open.ts';
import {
  HEARTBEAT_INTERVAL_MS,
  HEARTBEAT_TTL_MS,
  heartbeatKey,
  mediaServerNodeId,
  type MediaServerHeartbeat,
} from '@carillon/contracts/media-server-heartbeat';
import { liveCounts } from './health.ts';
import { CallControlChannel } from './control/call-control-channel.ts';
import { RedisCallOwnership } from './control/call-ownership.ts';
import { RedisConferenceEvents } from './control/conference-ownership.ts';
import { startMeetings } from './start-meetings.ts';

const config = loadConfigOrExit();
const { redisUrl, nodeId } = readSettingsOrExit();
const log = createLogger('media-server', config.LOG_LEVEL);

// Bounds each shutdown step: with Redis down, ioredis would retry a command for tens of seconds.
const SHUTDOWN_STEP_MS = 2000;

// Auto-pipelining batches the registrar's commands of one event-loop turn into one socket write.
const redis = new Redis(redisUrl, { connectionName: `carillon:media-server:${nodeId}`, enableAutoPipelining: true });
const startedAt = new Date().toISOString();
const key = heartbeatKey(nodeId);
let lastError = '';
redis.on('error', (err: Error) => {
  // Every reconnect attempt repeats the error; log it once until it clears.
  if (err.message !== lastError) log.error('redis error', { error: err });
  lastError = err.message;
});

let stopping = false;
let inFlight: Promise<void> | undefined;
let announced = false;

function beat(): void {
  // With a slow Redis, skip a beat rather than queue writes up behind each other.
  if (stopping || inFlight) return;
  const heartbeat: MediaServerHeartbeat = {
    nodeId,
    pid: process.pid,
    startedAt,
    at: new Date().toISOString(),
    sipPorts: edgePorts(),
    live: liveCounts(edge.calls, media),
  };
  inFlight = Promise.all([redis.set(key, JSON.stringify(heartbeat), 'PX', HEARTBEAT_TTL_MS), edge.presence.refresh(HEARTBEAT_TTL_MS)])
    .then(
      () => {
        if (!announced) log.info('heartbeat started', { nodeId, key });
        announced = true;
        lastError = '';
      },
      (err: unknown) => log.warn('heartbeat write failed', { error: err }),
    )
    .finally(() => (inFlight = undefined));
}

const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
// Before taking calls: what this node's previous run left open died with it. A database that cannot
// say so now must not keep the SIP edge down: the records stay open until the next start.
await closeCallsLeftOpen(db, nodeId).then(
  (closed) => closed && log.warn('closed the call records a previous run of this node left open', { nodeId, calls: closed }),
  (err: unknown) => log.error('could not close the call records a previous run of this node left open', { nodeId, error: err }),
);
const media = await MediaEngine.start({
  portRange: { min: config.RTP_PORT_MIN, max: config.RTP_PORT_MAX },
  bindAddress: config.SIP_HOST,
  mediaTimeoutMs: config.MEDIA_TIMEOUT_SECONDS * 1000,
  heldMediaTimeoutMs: config.MEDIA_HOLD_TIMEOUT_SECONDS * 1000,
  packetIo: config.MEDIA_NATIVE,
  ...(config.SIP_PUBLIC_ADDRESS ? { advertisedAddress: config.SIP_PUBLIC_ADDRESS } : {}),
});
const edge = await SipEdge.start({
  config,
  db,
  redis,
  media,
  secrets: secretBox(loadSecretKey(config)),
  log,
  nodeId,
  ownership: new RedisCallOwnership(redis, nodeId, log.child('control')),
  conferenceEvents: new RedisConferenceEvents(redis, nodeId, log.child('control')),
});
// Commands from the app to this node's calls, and changes of account configuration (a subscriber needs a connection of its own).
const subscriber = redis.duplicate({ connectionName: `carillon:media-server:${nodeId}:control` });
// Its errors are the main connection's (same server), which are logged above; ioredis resubscribes on reconnect.
subscriber.on('error', () => undefined);
const control = await CallControlChannel.start({
  subscriber,
  publisher: redis,
  nodeId,
  log: log.child('control'),
  targets: {
    findCall: (callId) => edge.calls.controlledCall(callId),
    conferenceCommand: (command) => edge.calls.conferences?.command(command) ?? { outcome: 'not_found', reason: 'conferences are not available on this node' },
    configChanged: (change) => edge.invalidateAccountConfig(change.accountId, change.subjects),
  },
});
// Video meetings' SFU (issue 17), only where the unreleased area is enabled.
const meetings = config.ENABLE_UNRELEASED.includes('meetings') ? await startMeetings({ config, redis, nodeId, log }) : null;
const edgePorts = () => edge.transport.ports;

beat();
const timer = setInterval(beat, HEARTBEAT_INTERVAL_MS);

async function stop(signal: NodeJS.Signals): Promise<void> {
  if (stopping) {
    log.warn('second signal: exiting at once', { signal });
    process.exit(1);
  }
  stopping = true;
  clearInterval(timer);
  log.info('shutting down', { signal });
  await within(control.stop(), SHUTDOWN_STEP_MS).catch(() => undefined);
  subscriber.disconnect();
  if (meetings) await within(meetings.stop(), SHUTDOWN_STEP_MS).catch(() => undefined);
  await within(edge.stop(), SHUTDOWN_STEP_MS * 2).catch((err: unknown) => log.warn('SIP edge did not stop cleanly', { error: err }));
  await within(media.stop(), SHUTDOWN_STEP_MS).catch(() => undefined);
  await within(db.destroy(), SHUTDOWN_STEP_MS).catch(() => undefined);
  // A write still in flight would otherwise land after the DEL and resurrect the key.
  if (inFlight) await within(inFlight, SHUTDOWN_STEP_MS).catch(() => undefined);
  try {
    await within(redis.del(key), SHUTDOWN_STEP_MS);
  } catch (err) {
    log.warn('could not remove the heartbeat; it expires on its own', {
      error: err,
      ttlMs: HEARTBEAT_TTL_MS,
    });
  }
  await within(redis.quit(), SHUTDOWN_STEP_MS).catch(() => redis.disconnect());
  log.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', (signal) => void stop(signal));
process.on('SIGINT', (signal) => void stop(signal));

function readSettingsOrExit(): { redisUrl: string; nodeId: string } {
  const issues: { variable: string; message: string }[] = [];
  const redisUrl = config.REDIS_URL;
  if (!redisUrl) {
    issues.push({
      variable: 'REDIS_URL',
      message: 'required by the media-server (e.g. redis://127.0.0.1:6379)',
    });
  }
  const nodeId = mediaServerNodeId(config.MEDIA_SERVER_NODE_ID);
  if (redisUrl && issues.length === 0) return { redisUrl, nodeId };
  // Same wording and exit code as loadConfigOrExit, so operators see one style.
  process.stderr.write(`carillon: ${new ConfigError(issues).message}\n`);
  process.exit(78);
}

/** Resolves like `promise`, or rejects once `ms` have passed. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const limit = new Promise<never>(
    (_, reject) => (t = setTimeout(() => reject(new Error(`gave up after ${ms} ms`)), ms)),
  );
  return Promise.race([promise, limit]).finally(() => clearTimeout(t));
}
