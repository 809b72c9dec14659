export {
  readMediaServerHeartbeats,
  heartbeatKey,
  mediaServerNodeId,
  HEARTBEAT_KEY_PREFIX,
  HEARTBEAT_INTERVAL_MS,
  HEARTBEAT_TTL_MS,
  type MediaServerHeartbeat,
} from './health.ts';
export { PRESENCE_CHANNEL, PRESENCE_KEY_PREFIX, presenceKey, presenceField, type CallActivity } from './presence/presence-keys.ts';
export { BINDING_KEY_PREFIX, readBindings } from './registrar/binding-store.ts';
