import { error } from '@sveltejs/kit';
import type { AuthenticatedSession } from '@carillon/core';
import { getRuntime } from './runtime.ts';
import { callLogFilters, listCalls } from './call-log.ts';
import { mayControlCall } from './call-control.ts';

/** What both call log pages load: the rows the filters select, and the filters as the form shows them. */
export async function loadCallLog(auth: AuthenticatedSession, url: URL, scope: 'mine' | 'company') {
  const parsed = callLogFilters(url.searchParams, scope);
  if (!parsed.success) error(400, 'invalid filters');
  const rows = await listCalls((await getRuntime()).db, auth, parsed.data);
  const exportQuery = new URLSearchParams(
    Object.entries(parsed.data)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  ).toString();
  return {
    calls: rows.map((r) => ({
      id: r.id,
      startedAt: new Date(r.started_at).toISOString(),
      direction: r.direction,
      fromNumber: r.from_number,
      fromName: r.from_name,
      toNumber: r.to_number,
      result: r.result,
      durationSeconds: r.duration_seconds,
      hangupBy: r.hangup_by,
      emergency: r.emergency,
      recordingId: r.recording_id,
      /** Still going (as far as the record knows): the page offers to hang it up to whoever may. */
      live: r.ended_at === null,
      canHangUp: r.ended_at === null && mayControlCall(auth, r),
    })),
    filters: {
      from: url.searchParams.get('from') ?? '',
      to: url.searchParams.get('to') ?? '',
      direction: url.searchParams.get('direction') ?? '',
      result: url.searchParams.get('result') ?? '',
      recorded: url.searchParams.get('recorded') ?? '',
      view: url.searchParams.get('view') === 'detailed' ? ('detailed' as const) : ('simple' as const),
    },
    exportHref: `/api/calls/export?${exportQuery}`,
    /** The body of POST /api/calls/recordings-export for these filters. */
    recordingsExport: Object.fromEntries(
      (['from', 'to', 'direction', 'result', 'scope'] as const).filter((k) => parsed.data[k] !== undefined).map((k) => [k, String(parsed.data[k])]),
    ),
  };
}
