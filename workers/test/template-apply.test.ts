import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Job, QueueEvents } from 'bullmq';
import { sql } from 'kysely';
import { applyTemplateToUser, createTemplateApplication, type UserSettingsTemplate } from '@carillon/core';
import type { Db } from '@carillon/db';
import { openServedDatabase, type ServedDatabase } from '../../scripts/lib/database.ts';
import { createScratchDatabase, testPostgresUrl } from '../../tests/support/postgres.ts';
import { createJobProducer, createRedisConnection, enqueueTemplateApply, type TemplateApplyQueue } from '@carillon/core/jobs';
import { QueueName, type JobProgress, type TemplateApplyJobResult } from '@carillon/contracts/jobs';
import { QUEUE_JOB_OPTIONS } from '@carillon/contracts/jobs';
import { deletePrefix, killIfRunning, REDIS_URL, spawnWorkers, startSmtpReceiver, uniquePrefix, waitFor, type Spawned } from './support.ts';
import { seedAccount, type SeededAccount } from './recording-export-support.ts';
import { addManyUsers } from './template-apply-support.ts';

/**
 * Issue 5 acceptance: a template applied to 200 users by real worker
 * processes, with live progress, an e-mail to the admin at the end, and a
 * worker killed with SIGKILL in the middle: after a restart the job carries on
 * and every user ends with the template's settings exactly once.
 */
const USERS = 200;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-tests', 'template-apply-'));
const prefix = uniquePrefix();
let scratch: { url: string; drop: () => Promise<void> } | undefined;
let database: ServedDatabase;
let db: Db;
let account: SeededAccount;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
let queue: TemplateApplyQueue;
let events: QueueEvents;
const workers: Spawned[] = [];
const connection = createRedisConnection(REDIS_URL);

const SETTINGS: UserSettingsTemplate = {
  regional: { override: true, value: { timeZone: 'Europe/Paris', language: 'fr', timeFormat: '24h' } },
  userHours: { override: true, value: { mode: 'custom', days: { mon: [{ from: '08:00', to: '12:00' }, { from: '13:00', to: '17:00' }], tue: [], wed: [], thu: [], fri: [{ from: '09:00', to: '15:00' }], sat: [], sun: [] } } },
  notifications: { override: true, value: { voicemail: { email: true, attachment: true, markRead: true }, fax: { email: false, attachment: false, markRead: false }, missedCalls: { email: true }, faxResults: { email: false }, textMessages: { email: true } } },
  // Switched off: each user keeps their own job title.
  jobTitle: { override: false, value: 'Template title' },
};

beforeAll(async () => {
  const pgUrl = testPostgresUrl();
  if (pgUrl) scratch = await createScratchDatabase(pgUrl, 'templateapply');
  database = await openServedDatabase(scratch?.url, dataDir);
  db = database.db;
  account = await seedAccount(db, 'Template Corp');
  smtp = await startSmtpReceiver();
  queue = createJobProducer(connection, prefix).queue('template-apply');
  events = new QueueEvents(QueueName.TemplateApply, { connection, prefix });
  await events.waitUntilReady();
}, 120_000);

afterAll(async () => {
  for (const w of workers) killIfRunning(w);
  await events?.close();
  await queue?.close();
  await connection.quit();
  await deletePrefix(prefix);
  await smtp?.stop();
  await database?.close();
  await scratch?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const startWorker = async () => {
  // A short lock, so the dead worker's job is handed on within seconds.
  const w = spawnWorkers(prefix, { DATABASE_URL: database.url, DATA_DIR: dataDir, WORKER_LOCK_MS: '3000', SMTP_URL: smtp.url, MAIL_FROM: 'Carillon <no-reply@carillon.test>' });
  workers.push(w);
  await w.waitForOutput(/"workers started"/);
  return w;
};

async function newApplication(userIds: string[], name: string): Promise<string> {
  const template = await db
    .insertInto('user_templates')
    .values({ account_id: account.accountId, kind: 'user_settings', name, settings: JSON.stringify(SETTINGS), created_by: account.adminUserId, updated_by: account.adminUserId })
    .returningAll()
    .executeTakeFirstOrThrow();
  const app = await createTemplateApplication(db, { userId: account.adminUserId, ip: null }, template, userIds);
  expect(app).toMatchObject({ total: userIds.length, notFound: [] });
  return app.applicationId;
}

/** Every user has the template's overridden sections, their own job title, and exactly one audit event for this application. */
async function expectAppliedOnce(userIds: string[], applicationId: string): Promise<void> {
  const users = await db.selectFrom('users').select(['id', 'language', 'time_zone', 'time_format', 'user_hours', 'notification_settings', 'job_title', 'last_name']).where('id', 'in', userIds).execute();
  expect(users).toHaveLength(userIds.length);
  for (const u of users) {
    expect({ language: u.language, tz: u.time_zone, tf: u.time_format }).toEqual({ language: 'fr', tz: 'Europe/Paris', tf: '24h' });
    expect(u.user_hours).toEqual(SETTINGS.userHours!.value);
    expect(u.notification_settings).toEqual(SETTINGS.notifications!.value);
    expect(u.job_title).toBe(`Own title ${u.last_name}`);
  }
  const audits = await db
    .selectFrom('audit_events')
    .select(['target_id', (eb) => eb.fn.countAll<string>().as('n')])
    .where('account_id', '=', account.accountId)
    .where('action', '=', 'user.template_applied')
    .where(sql<boolean>`after->>'applicationId' = ${applicationId}`)
    .groupBy('target_id')
    .execute();
  expect(audits).toHaveLength(userIds.length);
  expect(audits.every((a) => Number(a.n) === 1)).toBe(true);
  expect(new Set(audits.map((a) => a.target_id))).toEqual(new Set(userIds));
  const stamps = await db.selectFrom('template_application_users').select('applied_at').where('application_id', '=', applicationId).execute();
  expect(stamps).toHaveLength(userIds.length);
  expect(stamps.every((s) => s.applied_at !== null)).toBe(true);
  const app = await db.selectFrom('template_applications').selectAll().where('id', '=', applicationId).executeTakeFirstOrThrow();
  expect(app).toMatchObject({ status: 'completed', total: userIds.length, error: null });
}

describe('template apply', () => {
  let all: string[] = [];
  let worker: Spawned;

  it('applies a template to 200 users with live progress, then e-mails the admin', { timeout: 120_000 }, async () => {
    all = await addManyUsers(db, account, USERS);
    worker = await startWorker();
    const applicationId = await newApplication(all, 'New users');
    const progress: JobProgress[] = [];
    events.on('progress', ({ jobId, data }) => {
      if (jobId === applicationId) progress.push(data as unknown as JobProgress);
    });
    await enqueueTemplateApply(queue, applicationId, { accountId: account.accountId, userId: account.adminUserId });
    const job = (await Job.fromId(queue, applicationId))!;
    const result = (await job.waitUntilFinished(events, 60_000)) as TemplateApplyJobResult;
    expect(result).toEqual({ applicationId, applied: USERS, total: USERS });
    await expectAppliedOnce(all, applicationId);
    // Progress went up step by step to 100, each event saying whose job it is.
    await waitFor(async () => progress.some((p) => p.percent === 100), 5000, 'the last progress event');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.every((p) => p.stage === 'applying' && p.owner.accountId === account.accountId && p.owner.userId === account.adminUserId)).toBe(true);
    const percents = progress.map((p) => p.percent);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    const admin = await db.selectFrom('users').select('email').where('id', '=', account.adminUserId).executeTakeFirstOrThrow();
    await waitFor(async () => smtp.received.some((m) => m.to.includes(admin.email)), 20_000, 'the e-mail to the admin');
    const mail = smtp.received.find((m) => m.to.includes(admin.email))!;
    expect(mail.raw).toMatch(/Template applied: New users/);
    expect(mail.raw).toMatch(/applied to 200 user/);
  });

  it('survives kill -9 mid-way: after a restart every user has the template exactly once', { timeout: 180_000 }, async () => {
    // Back to each user's own settings, so that this run's changes are visible.
    await db.updateTable('users').set({ language: 'en', time_zone: 'America/New_York', time_format: '12h', user_hours: JSON.stringify({ mode: '24h' }), notification_settings: JSON.stringify({}) }).where('id', 'in', all).execute();
    const completions: string[] = [];
    events.on('completed', ({ jobId }) => completions.push(jobId));
    const applicationId = await newApplication(all, 'Support');
    // The app's options, plus the test-only pause that keeps the job in flight for a few seconds.
    await queue.add('apply', { applicationId, accountId: account.accountId, userId: account.adminUserId, delayMsPerUser: 40 }, { ...QUEUE_JOB_OPTIONS['template-apply'], jobId: applicationId });
    const stamped = async () => Number((await db.selectFrom('template_application_users').select((eb) => eb.fn.countAll<string>().as('n')).where('application_id', '=', applicationId).where('applied_at', 'is not', null).executeTakeFirstOrThrow()).n);
    await waitFor(async () => (await stamped()) >= 40, 60_000, 'the job to be 40 users in');
    const inFlight = (await Job.fromId(queue, applicationId))!.progress as JobProgress;
    expect(inFlight.percent).toBeGreaterThan(0);
    expect(inFlight.percent).toBeLessThan(100);

    worker.child.kill('SIGKILL');
    expect((await worker.exited).signal).toBe('SIGKILL');
    const midway = await stamped();
    expect(midway).toBeGreaterThanOrEqual(40);
    expect(midway).toBeLessThan(USERS);
    const job = (await Job.fromId(queue, applicationId))!;
    expect(await job.getState()).toBe('active');

    const second = await startWorker();
    const result = (await job.waitUntilFinished(events, 90_000).catch(async (err: unknown) => {
      const now = await Job.fromId(queue, applicationId);
      throw new Error(`${String(err)}\nstate ${await job.getState()}, failedReason ${now?.failedReason}, stamped ${await stamped()}\n${second.stdout()}\n${second.stderr()}`, { cause: err });
    })) as TemplateApplyJobResult;
    expect(result).toEqual({ applicationId, applied: USERS, total: USERS });
    expect(second.stdout()).toMatch(/job stalled: its worker went away, re-queued/);
    await expectAppliedOnce(all, applicationId);
    // Completed once, and not run again.
    await new Promise((r) => setTimeout(r, 1000));
    expect(completions.filter((id) => id === applicationId)).toEqual([applicationId]);
    expect(await (await Job.fromId(queue, applicationId))!.getState()).toBe('completed');
  });
});

describe('the role section, when the job runs', () => {
  it('is skipped when the requester can no longer grant the role (their own role was lowered since they asked)', async () => {
    const roleId = async (key: string) => (await db.selectFrom('roles').select('id').where('key', '=', key).executeTakeFirstOrThrow()).id;
    const addUser = async (number: string, role: string) => {
      const ext = await db.insertInto('extensions').values({ account_id: account.accountId, site_id: account.siteId, number, type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
      return (await db.insertInto('users').values({ account_id: account.accountId, extension_id: ext.id, role_id: await roleId(role), first_name: 'Role', last_name: number, email: `role-${number}-${prefix}@example.com`, setup_progress: JSON.stringify({}) }).returning('id').executeTakeFirstOrThrow()).id;
    };
    const requester = await addUser('9001', 'phone_system_admin');
    const target = await addUser('9002', 'standard');
    const settings: UserSettingsTemplate = { role: { override: true, value: { roleId: await roleId('phone_system_admin') } }, jobTitle: { override: true, value: 'Promoted?' } };
    const template = await db
      .insertInto('user_templates')
      .values({ account_id: account.accountId, kind: 'user_settings', name: 'Grant phone system', settings: JSON.stringify(settings), created_by: requester, updated_by: requester })
      .returningAll()
      .executeTakeFirstOrThrow();
    const app = await createTemplateApplication(db, { userId: requester, ip: null }, template, [target]);
    // Asked for as a Phone System Admin; a User Admin by the time the job gets to it.
    await db.updateTable('users').set({ role_id: await roleId('user_admin') }).where('id', '=', requester).execute();
    const result = await applyTemplateToUser(db, { userId: requester, ip: null }, { accountId: account.accountId, applicationId: app.applicationId, templateId: template.id, templateName: template.name, kind: 'user_settings', settings: settings as Record<string, unknown> }, target);
    expect(result).toEqual({ outcome: 'applied', skipped: ['role'] });
    expect(await db.selectFrom('users').select(['role_id', 'job_title']).where('id', '=', target).executeTakeFirstOrThrow()).toEqual({ role_id: await roleId('standard'), job_title: 'Promoted?' });
  });
});
