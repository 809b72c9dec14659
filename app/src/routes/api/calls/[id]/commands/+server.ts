import { json } from '@sveltejs/kit';
import { callCommandRequest } from '@carillon/contracts/call-control';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound, readJson } from '#lib/server/api.ts';
import { callForControl, sendCallCommand } from '#lib/server/call-control.ts';
import type { RequestHandler } from './$types';

/** A command to a live call (hang up, recording), carried to its media-server node by the control channel. */
export const POST: RequestHandler = async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const rt = await getRuntime();
  const auth = caller(event);
  // Another account's call is not found, whatever the body.
  const call = await callForControl(rt.db, auth, event.params.id);
  if (!call) return notFound();
  const body = await readJson(event.request, callCommandRequest);
  if (!body.ok) return body.response;
  const outcome = await sendCallCommand(rt, auth, actorOf(event), call, body.data);
  switch (outcome.status) {
    case 'done':
      return json({ outcome: 'done' });
    case 'forbidden':
      return json({ error: 'forbidden' }, { status: 403 });
    case 'ended':
      return json({ error: 'call_ended', reason: outcome.reason }, { status: 404 });
    case 'refused':
      return json({ error: 'refused', reason: outcome.reason }, { status: 409 });
    case 'failed':
      return json({ error: 'failed', reason: outcome.reason }, { status: 502 });
    case 'timeout':
      return json({ error: 'media_server_timeout' }, { status: 504 });
  }
};
