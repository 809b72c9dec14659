import { json } from '@sveltejs/kit';
import { readSmsMessageStatus } from '@carillon/core/sms';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid, notFound } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** One of the account's texts and its status (queued, sending, sent, delivered, failed with the carrier's code, unknown). */
export const GET: RequestHandler = inArea('sms', async (event) => {
  if (!isUuid(event.params.id)) return notFound();
  const message = await readSmsMessageStatus((await getRuntime()).db, caller(event).account.id, event.params.id);
  return message ? json(message) : notFound();
});
