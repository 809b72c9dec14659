import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { AUDIT_LOOKBACK_DAYS, listAuditEvents } from '#lib/server/audit-events.ts';
import type { PageServerLoad } from './$types';

/** Periods of seed 000's search, in days back from today (0: today, 1: yesterday). */
const AUDIT_PERIODS = ['0', '1', '7', '30', '60', '90', String(AUDIT_LOOKBACK_DAYS)] as const;
type Period = (typeof AUDIT_PERIODS)[number];

function periodRange(period: Period, now = new Date()): { from: Date; to?: Date } {
  const midnight = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  if (period === '0') return { from: midnight };
  if (period === '1') return { from: new Date(midnight.getTime() - 86_400_000), to: new Date(midnight.getTime() - 1) };
  return { from: new Date(now.getTime() - Number(period) * 86_400_000) };
}

export const load: PageServerLoad = async (event) => {
  const params = event.url.searchParams;
  const raw = params.get('period') ?? '30';
  const period: Period = (AUDIT_PERIODS as readonly string[]).includes(raw) ? (raw as Period) : '30';
  const action = (params.get('action') ?? '').trim().slice(0, 100);
  const target = (params.get('target') ?? '').trim().slice(0, 100);
  const range = periodRange(period);
  const search = { ...range, ...(action ? { action } : {}), ...(target ? { target } : {}) };
  const events = await listAuditEvents((await getRuntime()).db, caller(event).account.id, { ...search, limit: 500 });
  // The CSV link downloads exactly this search.
  const csv = new URLSearchParams({ from: range.from.toISOString(), ...(range.to ? { to: range.to.toISOString() } : {}), ...(action ? { action } : {}), ...(target ? { target } : {}), limit: '500' });
  return {
    search: { period, action, target },
    periods: AUDIT_PERIODS,
    csvUrl: `/api/audit-events/export?${csv}`,
    events: events.map((e) => ({ id: e.id, action: e.action, targetType: e.targetType, targetId: e.targetId, before: e.before, after: e.after, actorName: e.actorName, actorRole: e.actorRole, actorApiToken: e.actorApiToken, occurredAt: new Date(e.occurredAt).toISOString() })),
  };
};
