import { json } from '@sveltejs/kit';
import { isOwnSmsRegistration, reviewSmsRegistration } from '@carillon/core/sms';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid, notFound, readJson } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import { smsRegistrationReviewSchema } from '#lib/server/sms/sms-campaigns.ts';
import type { RequestHandler } from './$types';

/** An admin approves or rejects a pending registration (audited); another account's is not found. */
export const POST: RequestHandler = inArea('sms', async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const auth = caller(event);
  const db = (await getRuntime()).db;
  if (!(await isOwnSmsRegistration(db, auth.account.id, event.params.id))) return notFound();
  const body = await readJson(event.request, smsRegistrationReviewSchema);
  if (!body.ok) return body.response;
  const result = await reviewSmsRegistration(db, { ...actorOf(event), accountId: auth.account.id }, event.params.id, body.data.decision, body.data.note ?? null);
  if (result === undefined) return notFound();
  if (result === 'already_reviewed') return json({ error: 'already_reviewed', message: 'this registration was already reviewed' }, { status: 409 });
  return json(result);
});
