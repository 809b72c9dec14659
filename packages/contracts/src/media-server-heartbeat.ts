import os from 'node:os';


/**
 * Each media-server node announces itself with a Redis key that it refreshes
 * well within the key's TTL. A node that dies without cleaning up disappears
 * once the TTL runs out, so the set of keys is the set of live nodes.
 */
export const HEARTBEAT_KEY_PREFIX = 'carillon:media-server:heartbeat:';
export const HEARTBEAT_INTERVAL_MS = 5000;
/** Three intervals: one slow write or a short Redis hiccup doesn't make a node look dead. */
export const HEARTBEAT_TTL_MS = 15_000;

export interface MediaServerHeartbeat {
  nodeId: string;
  pid: number;
  startedAt: string;
  at: string;
  /** The SIP edge's bound ports by transport, so the app can point browsers and phones at it. */
  sipPorts?: Partial<Record<'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS', number>>;
  /** What the node holds open right now; all zero on an idle node (a leak shows as a count that never returns to 0). */
  live?: LiveCounts;
}

/**
 * Live objects of a node: calls, and the media engine's legs (endpoints facing
 * a peer), endpoints (legs and pipe ends), bridges, rooms and pipes.
 */
export interface LiveCounts {
  calls: number;
  legs: number;
  bridges: number;
  endpoints: number;
  rooms: number;
  pipes: number;
}


/** The two Redis commands reading heartbeats needs (an ioredis client has them). */
export interface HeartbeatReader {
  scan(cursor: string, match: 'MATCH', pattern: string, count: 'COUNT', n: number): Promise<[cursor: string, elements: string[]]>;
  mget(...keys: string[]): Promise<(string | null)[]>;
}

export const heartbeatKey = (nodeId: string): string => `${HEARTBEAT_KEY_PREFIX}${nodeId}`;

/** A node's id: MEDIA_SERVER_NODE_ID, else the host name (one node per host or container is the normal deployment). */
export const mediaServerNodeId = (configured: string | undefined): string => configured ?? os.hostname().replace(/[^A-Za-z0-9_.-]/g, '-');

/** Live media-server nodes, sorted by nodeId. Values that don't parse are skipped, not thrown. */
export async function readMediaServerHeartbeats(redis: HeartbeatReader): Promise<MediaServerHeartbeat[]> {
  const keys = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${HEARTBEAT_KEY_PREFIX}*`, 'COUNT', 100);
    for (const key of batch) keys.add(key);
    cursor = next;
  } while (cursor !== '0');
  if (keys.size === 0) return [];

  const values = await redis.mget(...keys);
  const heartbeats: MediaServerHeartbeat[] = [];
  for (const value of values) {
    // A key can expire between SCAN and MGET.
    const heartbeat = value === null ? undefined : parseHeartbeat(value);
    if (heartbeat) heartbeats.push(heartbeat);
  }
  return heartbeats.sort((a, b) => a.nodeId.localeCompare(b.nodeId));
}

function parseHeartbeat(value: string): MediaServerHeartbeat | undefined {
  try {
    const v = JSON.parse(value) as Partial<Record<keyof MediaServerHeartbeat, unknown>>;
    if (
      typeof v.nodeId === 'string' &&
      typeof v.pid === 'number' &&
      typeof v.startedAt === 'string' &&
      typeof v.at === 'string'
    ) {
      const ports = v.sipPorts && typeof v.sipPorts === 'object' ? (v.sipPorts as Record<string, unknown>) : {};
      const sipPorts: NonNullable<MediaServerHeartbeat['sipPorts']> = {};
      for (const t of ['UDP', 'TCP', 'TLS', 'WS', 'WSS'] as const) if (typeof ports[t] === 'number') sipPorts[t] = ports[t];
      const live = parseLiveCounts(v.live);
      return { nodeId: v.nodeId, pid: v.pid, startedAt: v.startedAt, at: v.at, sipPorts, ...(live ? { live } : {}) };
    }
  } catch {
    // Not JSON: written by something else; ignore it like any other malformed value.
  }
  return undefined;
}

function parseLiveCounts(value: unknown): LiveCounts | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  const names = ['calls', 'legs', 'bridges', 'endpoints', 'rooms'] as const;
  if (!names.every((n) => typeof v[n] === 'number')) return undefined;
  // A node of the previous version has no pipes.
  const pipes = typeof v.pipes === 'number' ? v.pipes : 0;
  return { calls: v.calls as number, legs: v.legs as number, bridges: v.bridges as number, endpoints: v.endpoints as number, rooms: v.rooms as number, pipes };
}
