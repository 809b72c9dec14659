import { json } from '@sveltejs/kit';
import { z } from 'zod';
import { deleteMonitoringGroup, loadMonitoringGroup, MonitoringMemberError, saveMonitoringGroup } from '@carillon/core';
import { monitoringGroupInput } from '@carillon/domain';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

const groupId = z.string().uuid();
const notFound = () => json({ error: 'not_found' }, { status: 404 });

/** A call monitoring group of the account; another account's is not found. */
export const GET: RequestHandler = inArea('monitoring', async (event) => {
  const id = groupId.safeParse(event.params.id);
  if (!id.success) return notFound();
  const rt = await getRuntime();
  const group = await loadMonitoringGroup(rt.db, caller(event).account.id, id.data);
  return group ? json({ group }) : notFound();
});

/** Saves a group's name and both lists (each replaced whole). */
export const PUT: RequestHandler = inArea('monitoring', async (event) => {
  const id = groupId.safeParse(event.params.id);
  if (!id.success) return notFound();
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  // Another account's group is not found, whatever the body says.
  if (!(await loadMonitoringGroup(rt.db, accountId, id.data))) return notFound();
  const body = await readJson(event.request, monitoringGroupInput);
  if (!body.ok) return body.response;
  try {
    const group = await saveMonitoringGroup(rt.db, actorOf(event), accountId, id.data, body.data);
    return group ? json({ group }) : notFound();
  } catch (err) {
    if (err instanceof MonitoringMemberError) return json({ error: 'unknown_users', extensionIds: err.extensionIds }, { status: 400 });
    throw err;
  }
});

export const DELETE: RequestHandler = inArea('monitoring', async (event) => {
  const id = groupId.safeParse(event.params.id);
  if (!id.success) return notFound();
  const rt = await getRuntime();
  return (await deleteMonitoringGroup(rt.db, actorOf(event), caller(event).account.id, id.data)) ? new Response(null, { status: 204 }) : notFound();
});
