import { json } from '@sveltejs/kit';
import { conferenceCodesOf, conferenceDialIns, conferenceSettingsOf, saveConferenceSettings } from '@carillon/core/conference';
import { conferenceSettingsSchema } from '@carillon/domain';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, notFound, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** The signed-in user's conference (inventory 1 §5.2): the bridge's dial-in numbers, their host and participant codes, their settings. */
export const GET: RequestHandler = inArea('conference', async (event) => {
  const auth = caller(event);
  const extensionId = auth.user.extension_id;
  if (!extensionId) return notFound();
  const db = (await getRuntime()).db;
  const codes = await conferenceCodesOf(db, auth.account.id, extensionId);
  if (!codes) return notFound();
  return json({ dialIns: await conferenceDialIns(db, auth.account.id), codes, settings: await conferenceSettingsOf(db, auth.account.id, extensionId) });
});

/** The host's settings of their conference (inventory 1 §5.2): join before host, tones, name announcements. Audited. */
export const PUT: RequestHandler = inArea('conference', async (event) => {
  const auth = caller(event);
  const extensionId = auth.user.extension_id;
  if (!extensionId) return notFound();
  const body = await readJson(event.request, conferenceSettingsSchema);
  if (!body.ok) return body.response;
  const db = (await getRuntime()).db;
  if (!(await saveConferenceSettings(db, actorOf(event), auth.account.id, extensionId, body.data))) return notFound();
  return json({ settings: await conferenceSettingsOf(db, auth.account.id, extensionId) });
});
