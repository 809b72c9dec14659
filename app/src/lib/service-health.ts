/** What the health page and socket event carry. */
export interface ServiceHealth {
  database: { ok: boolean; latencyMs: number };
  redis: { ok: boolean; latencyMs: number };
  workers: { ok: boolean; latencyMs?: number; reason?: string };
  mediaServer: { ok: boolean; nodes: number };
  at: string;
}
