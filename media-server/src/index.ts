export {
  readMediaServerHeartbeats,
  heartbeatKey,
  HEARTBEAT_KEY_PREFIX,
  HEARTBEAT_INTERVAL_MS,
  HEARTBEAT_TTL_MS,
  type MediaServerHeartbeat,
} from './health.ts';
