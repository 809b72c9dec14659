/** What the health page and socket event carry. */
export interface ServiceHealth {
  database: { ok: boolean; latencyMs: number };
  redis: { ok: boolean; latencyMs: number };
  /** Live workers processes (their heartbeats), and why none counts when there is none. */
  workers: { ok: boolean; nodes: number; reason?: string };
  mediaServer: { ok: boolean; nodes: number };
  at: string;
}
