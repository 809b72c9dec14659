import { UnrecoverableError, type Job, type Processor } from 'bullmq';
import { applyTemplateToUser } from '@carillon/core';
import type { Db } from '@carillon/db';
import type { JobProducer } from '@carillon/core/jobs';
import { reportProgress } from '../progress.ts';
import type { TemplateApplyJobData, TemplateApplyJobResult } from '@carillon/contracts/jobs';

export interface TemplateApplyDeps {
  db: () => Promise<Db>;
  producer: JobProducer;
}

// Tests slow the job down to kill a worker in the middle; never more than this.
const MAX_TEST_DELAY_MS = 2000;

/**
 * Processor for `template-apply` (seed 000 "Application d'un modèle aux
 * utilisateurs"): works through the application's users not yet stamped done,
 * one transaction each (core's applyTemplateToUser), so a run that is retried
 * after a crash picks up where the dead one stopped, and no user gets the
 * template twice. Ends with an e-mail to the admin who applied it.
 */
export function createTemplateApplyProcessor(deps: TemplateApplyDeps): Processor<TemplateApplyJobData, TemplateApplyJobResult> {
  return async (job) => {
    const db = await deps.db();
    const { accountId, applicationId } = job.data;
    const app = await db.selectFrom('template_applications').selectAll().where('id', '=', applicationId).where('account_id', '=', accountId).executeTakeFirst();
    if (!app) throw new UnrecoverableError('template application not found');
    const countDone = async () =>
      Number((await db.selectFrom('template_application_users').select((eb) => eb.fn.countAll<string>().as('n')).where('application_id', '=', app.id).where('account_id', '=', accountId).where('applied_at', 'is not', null).executeTakeFirstOrThrow()).n);
    if (app.status !== 'completed') {
      await db.updateTable('template_applications').set({ status: 'running' }).where('id', '=', app.id).where('status', 'in', ['queued', 'running']).execute();
      const pending = await db
        .selectFrom('template_application_users')
        .select('user_id')
        .where('application_id', '=', app.id)
        .where('account_id', '=', accountId)
        .where('applied_at', 'is', null)
        .orderBy('user_id')
        .execute();
      let done = app.total - pending.length;
      await reportProgress(job, percentOf(done, app.total), 'applying');
      const actor = { userId: app.requested_by, ip: null };
      const target = { accountId, applicationId: app.id, templateId: app.template_id, templateName: app.template_name, kind: app.kind, settings: app.settings };
      const delay = Math.min(job.data.delayMsPerUser ?? 0, MAX_TEST_DELAY_MS);
      let lastReport = Date.now();
      for (const { user_id } of pending) {
        await applyTemplateToUser(db, actor, target, user_id);
        done++;
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        // Every user would flood the socket on large accounts: a few updates a second are enough for a bar.
        if (Date.now() - lastReport >= 200 || done === app.total) {
          lastReport = Date.now();
          await reportProgress(job, percentOf(done, app.total), 'applying');
        }
      }
      await db
        .updateTable('template_applications')
        .set({ status: 'completed', completed_at: new Date(), error: null })
        .where('id', '=', app.id)
        .where('status', 'in', ['queued', 'running'])
        .execute();
    }
    const applied = await countDone();
    await reportProgress(job, 100, 'applying');
    // Also sent by a retry that finds the work done: the job id keeps it to one e-mail.
    await notifyAdmin(deps, db, job, app.requested_by, app.template_name, applied);
    return { applicationId: app.id, applied, total: app.total };
  };
}

const percentOf = (done: number, total: number) => (total === 0 ? 100 : (100 * done) / total);

async function notifyAdmin(deps: TemplateApplyDeps, db: Db, job: Job<TemplateApplyJobData>, userId: string | null, template: string, applied: number): Promise<void> {
  if (!userId) return;
  const user = await db.selectFrom('users').select(['email', 'first_name', 'language']).where('id', '=', userId).where('account_id', '=', job.data.accountId).executeTakeFirst();
  if (!user) return;
  const fr = user.language === 'fr';
  await deps.producer.add(
    'email',
    'template-applied',
    {
      accountId: job.data.accountId,
      userId,
      purpose: 'template-applied',
      to: user.email,
      subject: fr ? `Modèle appliqué : ${template}` : `Template applied: ${template}`,
      text: fr
        ? `Bonjour ${user.first_name},\n\nLe modèle « ${template} » a été appliqué à ${applied} utilisateur(s).\n`
        : `Hello ${user.first_name},\n\nThe template "${template}" was applied to ${applied} user(s).\n`,
    },
    { jobId: `template-applied-${job.data.applicationId}` },
  );
}
