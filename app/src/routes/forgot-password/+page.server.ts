import { fail, redirect } from '@sveltejs/kit';
import { answerSecurityQuestion, securityQuestionFor, sendPasswordResetLink } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { identityFromForm } from '#lib/server/login-form.ts';
import { queuedMailer } from '#lib/server/mail-queue.ts';
import type { Actions } from './$types';

const kept = (form: FormData) => ({
  identifier: String(form.get('identifier') ?? ''),
  country: String(form.get('country') ?? 'US'),
  extension: String(form.get('extension') ?? ''),
});

export const actions: Actions = {
  email: async ({ request, locals }) => {
    const rt = await getRuntime();
    const form = await request.formData();
    const identity = identityFromForm(form);
    // The same answer whether or not an account matches, so the page reveals nothing.
    if (identity && (await rt.limiter.hit(`reset-mail:ip:${locals.ip}`, 10, 600)).allowed) {
      // Through the e-mail queue: the workers retry a refusing mail server. Not awaited: a known identity's link
      // (token, queued mail) would otherwise take longer to answer than an unknown one, and tell it apart.
      void sendPasswordResetLink(rt.db, queuedMailer(rt, { accountId: null, userId: null, purpose: 'password_reset' }), identity, rt.config.publicUrl).catch((err: unknown) =>
        rt.log.error('password reset link not sent', { error: err instanceof Error ? err.message : String(err) }),
      );
    }
    return { ...kept(form), sent: true };
  },
  question: async ({ request }) => {
    const rt = await getRuntime();
    const form = await request.formData();
    const identity = identityFromForm(form);
    if (!identity) return fail(400, { ...kept(form), error: 'error.invalid' as const });
    return { ...kept(form), question: await securityQuestionFor(rt.db, identity) };
  },
  answer: async ({ request, locals }) => {
    const rt = await getRuntime();
    const form = await request.formData();
    const identity = identityFromForm(form);
    const question = String(form.get('question') ?? '');
    if (!identity) return fail(400, { ...kept(form), error: 'error.invalid' as const });
    const result = await answerSecurityQuestion(rt.db, rt.limiter, rt.signInPolicy, {
      identity,
      answer: String(form.get('answer') ?? ''),
      ip: locals.ip,
    });
    if (result.ok) redirect(303, `/reset-password/${result.resetToken}`);
    if (result.reason === 'locked') {
      return fail(423, { ...kept(form), question, error: 'login.locked' as const, params: { time: result.lockedUntil.toISOString().slice(11, 16) + ' UTC' } });
    }
    return fail(400, { ...kept(form), question, error: result.reason === 'rate_limited' ? ('login.rateLimited' as const) : ('forgot.wrongAnswer' as const) });
  },
};
