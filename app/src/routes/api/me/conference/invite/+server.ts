import { json } from '@sveltejs/kit';
import { conferenceInviteMails } from '@carillon/core/conference';
import { conferenceInviteSchema } from '@carillon/domain';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, notFound, readJson } from '#lib/server/api.ts';
import { queuedMailer } from '#lib/server/mail-queue.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** Invites a user may send in an hour: each reaches up to 50 people, so this bounds what one account can mail. */
const INVITES_PER_HOUR = 20;

/**
 * "Send e-mail invite" (inventory 1 §5.1, issue 16): one message per recipient through the e-mail queue,
 * each with the same calendar invitation. A refusal (no dial-in number, a number not of the bridge, a start
 * in the past) queues nothing.
 */
export const POST: RequestHandler = inArea('conference', async (event) => {
  const auth = caller(event);
  const extensionId = auth.user.extension_id;
  if (!extensionId) return notFound();
  const body = await readJson(event.request, conferenceInviteSchema);
  if (!body.ok) return body.response;
  const rt = await getRuntime();
  if (!(await rt.limiter.hit(`conference-invite:${auth.user.id}`, INVITES_PER_HOUR, 3600)).allowed) return json({ error: 'rate_limited' }, { status: 429, headers: { 'retry-after': '3600' } });
  const name = [auth.user.first_name, auth.user.last_name].filter(Boolean).join(' ') || auth.user.email;
  const regional = { lang: event.locals.lang, timeZone: auth.user.time_zone ?? auth.account.time_zone, timeFormat: auth.user.time_format ?? auth.account.time_format };
  const built = await conferenceInviteMails(rt.db, auth.account.id, { extensionId, name, email: auth.user.email, regional }, body.data);
  if (!built.ok) {
    if (built.reason === 'no_conference') return notFound();
    return json({ error: built.reason, ...(built.detail ? { detail: built.detail } : {}) }, { status: 400 });
  }
  const mailer = queuedMailer(rt, { accountId: auth.account.id, userId: auth.user.id, purpose: 'conference_invite' });
  for (const mail of built.mails) await mailer.send(mail);
  return json({ sent: built.mails.length }, { status: 202 });
});
