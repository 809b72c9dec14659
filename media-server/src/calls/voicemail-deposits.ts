import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import type { Logger } from '@carillon/config';
import type { Database } from '@carillon/db';
import { VOICEMAIL_EVENTS_CHANNEL, type VoicemailEvent } from '@carillon/contracts/voicemail-events';
import type { JobProducer } from '@carillon/core/jobs';
import type { Mailboxes, MailboxSettings, NewVoicemail } from '../apps/voicemail/mailboxes.ts';

/** The defaults of a mailbox without a settings row (migration 0025's column defaults). */
const DEFAULTS = { maxMessageSeconds: 180, maxMessages: 100, language: 'en', transcribe: true } as const;

export interface VoicemailDepositsDeps {
  db: Kysely<Database>;
  /** Publishes the `deposited` event (contracts/voicemail-events.ts). */
  publish(channel: string, message: string): Promise<unknown>;
  /** DATA_DIR: messages are stored under it, and their paths kept relative to it (as transcriptions are). */
  dataDir: string;
  /** Enqueues transcription jobs; without it a message is stored untranscribed. */
  jobs: Pick<JobProducer, 'add'> | null;
  log: Logger;
}

/**
 * The mailboxes of the applications (apps/voicemail/mailboxes.ts) on the
 * database, the disk and Redis. Every query is scoped to the account.
 */
export class VoicemailDeposits implements Mailboxes {
  private readonly deps: VoicemailDepositsDeps;

  constructor(deps: VoicemailDepositsDeps) {
    this.deps = deps;
  }

  /** One statement: the extension, its settings (if any) and its messages outside the trash. */
  async settings(accountId: string, extensionId: string, greetingId?: string): Promise<MailboxSettings> {
    const row = await this.deps.db
      .selectFrom('extensions as e')
      .leftJoin('voicemail_settings as s', (j) => j.onRef('s.extension_id', '=', 'e.id').onRef('s.account_id', '=', 'e.account_id'))
      .select((eb) => [
        'e.name',
        's.greeting_path',
        's.max_message_seconds',
        's.max_messages',
        eb
          .selectFrom('voicemail_messages as m')
          .select(sql<string>`count(*)`.as('n'))
          .whereRef('m.account_id', '=', 'e.account_id')
          .whereRef('m.mailbox_extension_id', '=', 'e.id')
          .where('m.deleted_at', 'is', null)
          .as('message_count'),
      ])
      .where('e.id', '=', extensionId)
      .where('e.account_id', '=', accountId)
      .executeTakeFirst();
    const ruleGreeting = greetingId ? await this.ruleGreeting(accountId, extensionId, greetingId) : null;
    const greetingFile = ruleGreeting ?? (row?.greeting_path ? this.absolute(row.greeting_path) : null);
    return {
      extensionName: row?.name?.trim() || null,
      greetingFile,
      // Only the default greeting says the name: no query when a custom one plays.
      nameRecordingFile: greetingFile ? null : await this.nameRecording(accountId, extensionId),
      maxMessageSeconds: row?.max_message_seconds ?? DEFAULTS.maxMessageSeconds,
      maxMessages: row?.max_messages ?? DEFAULTS.maxMessages,
      messageCount: Number(row?.message_count ?? 0),
    };
  }

  userRecording(accountId: string, extensionId: string, audioId: string): Promise<string | null> {
    return this.ruleGreeting(accountId, extensionId, audioId);
  }

  /**
   * A rule's custom greeting (issue 13), when it is a greeting of the user of this extension and
   * its file is there; else null, and the mailbox's greeting plays.
   */
  private async ruleGreeting(accountId: string, extensionId: string, greetingId: string): Promise<string | null> {
    const row = await this.deps.db
      .selectFrom('voicemail_greetings as g')
      .innerJoin('users as u', (j) => j.onRef('u.id', '=', 'g.user_id').onRef('u.account_id', '=', 'g.account_id'))
      .select('g.file')
      .where('g.id', '=', greetingId)
      .where('g.account_id', '=', accountId)
      .where('u.extension_id', '=', extensionId)
      .executeTakeFirst();
    return row ? this.existing(row.file) : null;
  }

  /** The recorded name of the extension's user (issues 13 and 14), when there is one and its file is there. */
  private async nameRecording(accountId: string, extensionId: string): Promise<string | null> {
    const row = await this.deps.db
      .selectFrom('user_name_recordings as n')
      .innerJoin('users as u', (j) => j.onRef('u.id', '=', 'n.user_id').onRef('u.account_id', '=', 'n.account_id'))
      .select('n.file')
      .where('n.account_id', '=', accountId)
      .where('u.extension_id', '=', extensionId)
      .executeTakeFirst();
    return row ? this.existing(row.file) : null;
  }

  /**
   * The file moves to `voicemail/<account>/<message>.wav` under DATA_DIR; the
   * message (and its transcription, queued) is written in one transaction; the
   * event and the job follow the commit, so no reader sees a message that is
   * not there.
   */
  async deposit(m: NewVoicemail): Promise<{ messageId: string }> {
    const messageId = randomUUID();
    const relative = path.posix.join('voicemail', m.accountId, `${messageId}.wav`);
    const absolute = this.absolute(relative);
    await fs.mkdir(path.dirname(absolute), { recursive: true, mode: 0o700 });
    await fs.rename(m.recordingPath, absolute);
    await fs.chmod(absolute, 0o600);
    const { size } = await fs.stat(absolute);
    const settings = await this.deps.db
      .selectFrom('voicemail_settings')
      .select(['language', 'transcribe'])
      .where('extension_id', '=', m.mailboxExtensionId)
      .where('account_id', '=', m.accountId)
      .executeTakeFirst();
    const transcribe = (settings?.transcribe ?? DEFAULTS.transcribe) && this.deps.jobs !== null;
    const transcriptionId = transcribe ? randomUUID() : null;
    await this.deps.db.transaction().execute(async (trx) => {
      if (transcriptionId) {
        await trx
          .insertInto('transcriptions')
          .values({
            id: transcriptionId,
            account_id: m.accountId,
            user_id: null,
            extension_id: m.mailboxExtensionId,
            language: settings?.language ?? DEFAULTS.language,
            file_name: `voicemail-${messageId}.wav`,
            size_bytes: size,
            audio_path: relative,
          })
          .execute();
      }
      await trx
        .insertInto('voicemail_messages')
        .values({
          id: messageId,
          account_id: m.accountId,
          mailbox_extension_id: m.mailboxExtensionId,
          call_id: m.callId,
          from_number: m.fromNumber,
          from_name: m.fromName,
          to_number: m.toNumber,
          reason: m.reason,
          audio_path: relative,
          duration_ms: Math.max(0, Math.round(m.durationMs)),
          size_bytes: size,
          transcription_id: transcriptionId,
        })
        .execute();
    });
    const event: VoicemailEvent = { kind: 'deposited', accountId: m.accountId, mailboxExtensionId: m.mailboxExtensionId, messageId };
    await this.deps.publish(VOICEMAIL_EVENTS_CHANNEL, JSON.stringify(event)).catch((err: unknown) => this.deps.log.warn('voicemail event not published', { messageId, error: err }));
    if (transcriptionId && this.deps.jobs) {
      try {
        // The row's id is the job's: enqueueing twice cannot make two jobs (as the app's uploads do).
        await this.deps.jobs.add('transcription', 'transcribe', { accountId: m.accountId, userId: null, transcriptionId }, { jobId: transcriptionId });
      } catch (err) {
        this.deps.log.warn('voicemail transcription not queued', { messageId, error: err });
        await this.deps.db.updateTable('transcriptions').set({ status: 'failed', error: 'could not queue the job: job queue unavailable' }).where('id', '=', transcriptionId).where('account_id', '=', m.accountId).execute();
      }
    }
    return { messageId };
  }

  async discard(recordingPath: string): Promise<void> {
    await fs.rm(recordingPath, { force: true });
  }

  /** The file (relative to DATA_DIR) when it is there: one gone from the disk plays as if there were none. */
  private async existing(relative: string): Promise<string | null> {
    const file = this.absolute(relative);
    return (await fs.stat(file).catch(() => null)) ? file : null;
  }

  /** A path relative to DATA_DIR, kept inside it (a row cannot point the player elsewhere). */
  private absolute(relative: string): string {
    const root = path.resolve(this.deps.dataDir);
    const full = path.resolve(root, relative);
    if (!full.startsWith(root + path.sep)) throw new Error('a voicemail path must stay under DATA_DIR');
    return full;
  }
}
