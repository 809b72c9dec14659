import { json } from '@sveltejs/kit';
import { conferenceCommandRequest } from '@carillon/contracts/conference-control';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, notFound, readJson } from '#lib/server/api.ts';
import { sendConferenceCommand, type ConsoleOutcome } from '#lib/server/conference-console.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** An outcome that is not done, as the API answers it: each with a code the console explains. */
function refused(outcome: Exclude<ConsoleOutcome, { status: 'done' }>): Response {
  switch (outcome.status) {
    case 'no_conference':
      return notFound();
    case 'not_live':
      return json({ error: 'not_live', detail: 'your conference is not in progress' }, { status: 409 });
    case 'unknown_member':
      return json({ error: 'unknown_member', detail: outcome.reason }, { status: 404 });
    case 'unknown_extension':
      return json({ error: 'unknown_extension', detail: 'not a user extension of the account' }, { status: 400 });
    case 'refused':
      return json({ error: 'refused', detail: outcome.reason }, { status: 409 });
    case 'failed':
      return json({ error: 'failed', detail: outcome.reason }, { status: 502 });
    case 'timeout':
      return json({ error: 'timeout', detail: 'the media server did not answer' }, { status: 504 });
  }
}

/** The host's conference now (issue 16): whether it is in progress, and its roster. */
export const GET: RequestHandler = inArea('conference', async (event) => {
  const outcome = await sendConferenceCommand(await getRuntime(), caller(event), actorOf(event), { type: 'roster' });
  if (outcome.status === 'done') return json({ live: true, roster: outcome.roster });
  if (outcome.status === 'not_live') return json({ live: false, roster: null });
  return refused(outcome);
});

/** A command of the host's console on their conference in progress: mute, mute all, lock, remove, dial out. Audited. */
export const POST: RequestHandler = inArea('conference', async (event) => {
  const body = await readJson(event.request, conferenceCommandRequest);
  if (!body.ok) return body.response;
  const outcome = await sendConferenceCommand(await getRuntime(), caller(event), actorOf(event), body.data);
  return outcome.status === 'done' ? json({ ok: true }) : refused(outcome);
});
