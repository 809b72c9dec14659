import { json } from '@sveltejs/kit';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readJson } from '#lib/server/api.ts';
import { voicemailPinInput } from '#lib/server/me/schemas.ts';
import { setOwnVoicemailPin } from '#lib/server/me/self-settings.ts';
import type { RequestHandler } from './$types';

export const PUT: RequestHandler = async (event) => {
  const auth = caller(event);
  const body = await readJson(event.request, voicemailPinInput);
  if (!body.ok) return body.response;
  const result = await setOwnVoicemailPin((await getRuntime()).db, auth, actorOf(event), body.data);
  if (!result.ok) {
    const { status, ok: _ok, ...rest } = result;
    return json(rest, { status });
  }
  return json({ ok: true });
};
