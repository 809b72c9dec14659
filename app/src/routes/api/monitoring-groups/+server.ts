import { json } from '@sveltejs/kit';
import { createMonitoringGroup, listMonitoringGroups, MonitoringMemberError } from '@carillon/core';
import { monitoringGroupInput } from '@carillon/domain';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** MON-02: the account's call monitoring groups, with their monitors and monitored users. */
export const GET: RequestHandler = inArea('monitoring', async (event) => {
  const rt = await getRuntime();
  return json({ groups: await listMonitoringGroups(rt.db, caller(event).account.id) });
});

/** MON-02's wizard in one request: the name, the users that can monitor, the users that can be monitored. */
export const POST: RequestHandler = inArea('monitoring', async (event) => {
  const body = await readJson(event.request, monitoringGroupInput);
  if (!body.ok) return body.response;
  const rt = await getRuntime();
  try {
    return json({ group: await createMonitoringGroup(rt.db, actorOf(event), caller(event).account.id, body.data) }, { status: 201 });
  } catch (err) {
    if (err instanceof MonitoringMemberError) return json({ error: 'unknown_users', extensionIds: err.extensionIds }, { status: 400 });
    throw err;
  }
});
