import { json } from '@sveltejs/kit';
import { z } from 'zod';
import type { AuthenticatedSession } from '@carillon/core';
import { chooseSmsCarrier, isHighVolumeNumber, isSmsOptedOut, queueOutboundSms, readSmsMessageStatus, smsRequiresCleanContent } from '@carillon/core/sms';
import { checkSmsContent, measureSms, SMS_MAX_SEGMENTS } from '@carillon/domain';
import type { Runtime } from '../runtime.ts';
import { enqueueSmsSends } from './sms.ts';
import { smsContentWarningsJson, uncleanContentResponse } from './sms-campaigns.ts';

/**
 * The SMS API of integrations (issue 18, deliverable 2: "an API to send and
 * to read status, with API tokens"): an application sends one A2P text from
 * a number approved for high volume and reads what became of it. Called with
 * `Authorization: Bearer <API token>` (or a session): the token's account
 * scopes everything, and its role must hold `numbers.manage`, like campaigns.
 */

const e164 = z.string().regex(/^\+[1-9][0-9]{6,14}$/, 'an E.164 number, such as +14155550100');

export const smsApiSendSchema = z
  .object({
    from: e164.describe('One of the account’s numbers, approved for high volume'),
    to: e164,
    body: z.string().min(1).max(1600),
    /** The caller's key: the same key again returns the same message, sent once. */
    idempotencyKey: z.string().trim().min(1).max(100).optional().describe('Retrying with the same key returns the first message and sends nothing again'),
  })
  .strict();

const refuse = (error: string, message: string, status = 400) => json({ error, message }, { status });

/** POST /api/sms/messages: 201 with the new message (200 and the first one for a key already used). */
export async function sendApiSms(rt: Runtime, auth: AuthenticatedSession, body: z.output<typeof smsApiSendSchema>): Promise<Response> {
  const db = rt.db;
  const accountId = auth.account.id;
  if (!body.body.trim()) return refuse('empty_body', 'the message is empty');
  const measure = measureSms(body.body);
  if (measure.segments > SMS_MAX_SEGMENTS) return refuse('too_long', `the message takes ${measure.segments} segments; at most ${SMS_MAX_SEGMENTS} are allowed`);
  if (!(await isHighVolumeNumber(db, accountId, body.from))) return refuse('not_high_volume', `${body.from} is not approved for high volume: submit its registration first`);
  const warnings = checkSmsContent(body.body);
  if (warnings.length > 0 && (await smsRequiresCleanContent(db, accountId))) return uncleanContentResponse(warnings);
  if (await isSmsOptedOut(db, accountId, body.from, body.to)) return refuse('opted_out', `${body.to} has opted out of texts from ${body.from} (STOP)`, 409);
  const carrierId = await chooseSmsCarrier(db, accountId, body.from, 'a2p');
  if (!carrierId) return refuse('no_carrier', `no A2P carrier is configured for ${body.from}`, 409);
  // Keys are per caller (the token, else the user), so two integrations cannot collide on a key.
  const caller = auth.apiTokenId ? `token:${auth.apiTokenId}` : `user:${auth.user.id}`;
  const idempotencyKey = body.idempotencyKey ? `api:${caller}:${body.idempotencyKey}` : `api:${caller}:${crypto.randomUUID()}`;
  const queued = await queueOutboundSms(db, { accountId, userId: null, from: body.from, to: body.to, body: body.body, trafficClass: 'a2p', carrierId, idempotencyKey });
  if (queued.created) {
    const unqueued = await enqueueSmsSends(rt, accountId, [queued.messageId]);
    if (unqueued) return unqueued;
  }
  const message = await readSmsMessageStatus(db, accountId, queued.messageId);
  return json({ ...message, warnings: smsContentWarningsJson(warnings) }, { status: queued.created ? 201 : 200 });
}
