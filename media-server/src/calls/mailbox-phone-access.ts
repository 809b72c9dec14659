import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { Logger } from '@carillon/config';
import type { Database } from '@carillon/db';
import fs from 'node:fs';
import { redisRateLimiter, setVoicemailPin, verifySecret, type AuditActor, type RateLimiter } from '@carillon/core';
import type { JobProducer } from '@carillon/core/jobs';
import {
  GREETING_LIMITS,
  GreetingError,
  markVoicemail,
  NAME_RECORDING_LIMITS,
  NameRecordingError,
  resetRuleGreeting,
  setNameRecording,
  ruleGreetingFile,
  setRuleGreeting,
  trashVoicemail,
  voicemailFilePath,
  type VoicemailChange,
  type VoicemailReader,
} from '@carillon/core/voicemail';
import { CONFIG_CHANGES_CHANNEL, type ConfigChange } from '@carillon/contracts/config-changes';
import { VOICEMAIL_EVENTS_CHANNEL, type VoicemailEvent } from '@carillon/contracts/voicemail-events';
import { LOCKOUT_SECONDS, PIN_FAILURES_BEFORE_LOCK, type MailboxAccess, type PhoneMessage, type PinChange, type PinCheck } from '../apps/mailbox/mailbox-access.ts';

export interface MailboxPhoneAccessDeps {
  db: Kysely<Database>;
  redis: Redis;
  /** Publishes the 'changed' event (contracts/voicemail-events.ts). */
  publish(channel: string, message: string): Promise<unknown>;
  /** DATA_DIR: messages' audio paths are relative to it. */
  dataDir: string;
  /** The ffmpeg that checks and converts a greeting recorded by phone, as it does an uploaded one. */
  ffmpeg: string;
  /** Enqueues the lockout e-mail on the `email` queue; without it the lock is only logged. */
  jobs: Pick<JobProducer, 'add'> | null;
  log: Logger;
}

/** Redis keys, by mailbox (extension ids are unique across accounts). */
const FAILURES_PREFIX = 'carillon:mailbox-pin-failures:';
const LOCK_KEY = (extensionId: string) => `carillon:mailbox-locked:${extensionId}`;

/**
 * The mailbox application's port (apps/mailbox/mailbox-access.ts) on the
 * database and Redis. The mailbox is the extension's user's: their PIN
 * (user_credentials.pin_hash, argon2id) opens it, and the changes go through
 * the same scoped updates as the web inbox (core/voicemail), as that user.
 * Wrong PINs are counted per mailbox in Redis (a fixed window of
 * LOCKOUT_SECONDS, shared by every node); the PIN itself is never logged.
 * The PIN, the greeting and the recorded name are changed by core's functions
 * of the web pages (setVoicemailPin, setRuleGreeting, setNameRecording),
 * audited as the user's own change.
 */
export class MailboxPhoneAccess implements MailboxAccess {
  private readonly deps: MailboxPhoneAccessDeps;
  private readonly failures: RateLimiter;

  constructor(deps: MailboxPhoneAccessDeps) {
    this.deps = deps;
    this.failures = redisRateLimiter(deps.redis, FAILURES_PREFIX);
  }

  async hasPin(accountId: string, extensionId: string): Promise<boolean> {
    return (await this.userOf(accountId, extensionId))?.pinHash != null;
  }

  async isLocked(_accountId: string, extensionId: string): Promise<boolean> {
    return (await this.deps.redis.exists(LOCK_KEY(extensionId))) === 1;
  }

  async checkPin(accountId: string, extensionId: string, pin: string): Promise<PinCheck> {
    if (await this.isLocked(accountId, extensionId)) return 'locked';
    const user = await this.userOf(accountId, extensionId);
    if (user && (await verifySecret(user.pinHash, pin))) return 'ok';
    const { count } = await this.failures.hit(extensionId, PIN_FAILURES_BEFORE_LOCK, LOCKOUT_SECONDS);
    if (count < PIN_FAILURES_BEFORE_LOCK) return 'wrong';
    // NX: only the failure that locks it sends the alert (a later one, on another node, finds it locked).
    const locked = await this.deps.redis.set(LOCK_KEY(extensionId), '1', 'EX', LOCKOUT_SECONDS, 'NX');
    await this.deps.redis.del(FAILURES_PREFIX + extensionId);
    if (locked === 'OK') {
      this.deps.log.warn('mailbox locked after wrong PINs', { accountId, extensionId });
      if (user) await this.alert(accountId, user).catch((err: unknown) => this.deps.log.warn('mailbox lock e-mail not queued', { accountId, extensionId, error: err }));
    }
    return 'locked';
  }

  async newMessages(accountId: string, extensionId: string): Promise<PhoneMessage[]> {
    return this.messages(accountId, extensionId, 'new');
  }

  async savedMessages(accountId: string, extensionId: string): Promise<PhoneMessage[]> {
    return this.messages(accountId, extensionId, 'heard');
  }

  /** New messages oldest first (in the order they came); saved ones newest first, as the web inbox lists them. */
  private async messages(accountId: string, extensionId: string, status: 'new' | 'heard'): Promise<PhoneMessage[]> {
    const order = status === 'new' ? 'asc' : 'desc';
    const rows = await this.deps.db
      .selectFrom('voicemail_messages')
      .select(['id', 'audio_path', 'from_number'])
      .where('account_id', '=', accountId)
      .where('mailbox_extension_id', '=', extensionId)
      .where('status', '=', status)
      .where('deleted_at', 'is', null)
      .orderBy('created_at', order)
      .orderBy('id')
      .execute();
    const messages: PhoneMessage[] = [];
    for (const row of rows) {
      // A path that would leave DATA_DIR is not played (a bad row must never read elsewhere).
      const audioFile = voicemailFilePath(this.deps.dataDir, row.audio_path);
      if (audioFile) messages.push({ id: row.id, audioFile, fromNumber: row.from_number });
    }
    return messages;
  }

  async changePin(accountId: string, extensionId: string, pin: string, pinConfirm: string): Promise<PinChange> {
    const user = await this.userOf(accountId, extensionId);
    if (!user) throw new Error('the mailbox has no user');
    const result = await setVoicemailPin(this.deps.db, this.actorOf(user), accountId, user.id, { pin, pinConfirm, via: 'phone' });
    if (!result) throw new Error('the mailbox user is not of the account');
    return result;
  }

  readonly greetingMaxSeconds = GREETING_LIMITS.maxSeconds;

  async userHoursGreeting(accountId: string, extensionId: string): Promise<string | null> {
    const user = await this.userOf(accountId, extensionId);
    return user ? ruleGreetingFile(this.deps.db, this.deps.dataDir, accountId, user.id, 'in_hours') : null;
  }

  async setUserHoursGreeting(accountId: string, extensionId: string, recording: string): Promise<boolean> {
    const user = await this.userOf(accountId, extensionId);
    if (!user) {
      fs.rmSync(recording, { force: true });
      return false;
    }
    try {
      // The recording is taken over (removed) by setRuleGreeting in every case.
      const set = await setRuleGreeting(this.deps.db, { ffmpeg: this.deps.ffmpeg, dataDir: this.deps.dataDir }, this.actorOf(user), accountId, user.id, 'in_hours', { upload: recording, originalName: null, source: 'phone' });
      if (set) await this.configChanged(accountId);
      return set !== null;
    } catch (err) {
      if (!(err instanceof GreetingError)) throw err;
      this.deps.log.info('greeting recorded by phone refused', { accountId, extensionId, code: err.code });
      return false;
    }
  }

  async resetUserHoursGreeting(accountId: string, extensionId: string): Promise<void> {
    const user = await this.userOf(accountId, extensionId);
    if (!user) return;
    await resetRuleGreeting(this.deps.db, this.deps.dataDir, this.actorOf(user), accountId, user.id, 'in_hours');
    await this.configChanged(accountId);
  }

  readonly nameMaxSeconds = NAME_RECORDING_LIMITS.maxSeconds;

  async setNameRecording(accountId: string, extensionId: string, recording: string): Promise<boolean> {
    const user = await this.userOf(accountId, extensionId);
    if (!user) {
      fs.rmSync(recording, { force: true });
      return false;
    }
    try {
      // The recording is taken over (removed) by setNameRecording in every case. The calls read the
      // recorded name when they play it (no node caches it): nothing to announce.
      const set = await setNameRecording(this.deps.db, { ffmpeg: this.deps.ffmpeg, dataDir: this.deps.dataDir }, this.actorOf(user), accountId, user.id, { upload: recording, source: 'phone' });
      return set !== null;
    } catch (err) {
      if (!(err instanceof NameRecordingError)) throw err;
      this.deps.log.info('name recorded by phone refused', { accountId, extensionId, code: err.code });
      return false;
    }
  }

  /** The user changing their own mailbox by phone: no IP (the trail's actor is the user). */
  private actorOf(user: { id: string }): AuditActor {
    return { userId: user.id, ip: null };
  }

  /**
   * A greeting is part of the user's answering rules, which every node caches: core announces the
   * change only where a process installed a sink (the app), so the change made here is published
   * here, to every node and this one (contracts/config-changes.ts).
   */
  private async configChanged(accountId: string): Promise<void> {
    const change: ConfigChange = { accountId, subjects: ['answering_rules'] };
    await this.deps.publish(CONFIG_CHANGES_CHANNEL, JSON.stringify(change)).catch((err: unknown) => this.deps.log.warn('configuration change not published', { accountId, error: err }));
  }

  async save(accountId: string, extensionId: string, messageId: string): Promise<void> {
    const reader = await this.readerOf(accountId, extensionId);
    await this.announce(accountId, reader ? await markVoicemail(this.deps.db, reader, messageId, 'heard') : null);
  }

  async trash(accountId: string, extensionId: string, messageId: string): Promise<void> {
    const reader = await this.readerOf(accountId, extensionId);
    await this.announce(accountId, reader ? await trashVoicemail(this.deps.db, reader, messageId) : null);
  }

  private async announce(accountId: string, change: VoicemailChange | null): Promise<void> {
    if (!change) return;
    const event: VoicemailEvent = { kind: 'changed', accountId, mailboxExtensionId: change.mailboxExtensionId, messageId: change.messageId };
    await this.deps.publish(VOICEMAIL_EVENTS_CHANNEL, JSON.stringify(event)).catch((err: unknown) => this.deps.log.warn('voicemail event not published', { messageId: change.messageId, error: err }));
  }

  private async readerOf(accountId: string, extensionId: string): Promise<VoicemailReader | null> {
    const user = await this.userOf(accountId, extensionId);
    return user ? { accountId, userId: user.id } : null;
  }

  /** The extension's user, their PIN hash and where their e-mail goes. */
  private async userOf(accountId: string, extensionId: string): Promise<{ id: string; pinHash: string | null; email: string; language: string } | null> {
    const row = await this.deps.db
      .selectFrom('users as u')
      .leftJoin('user_credentials as c', 'c.user_id', 'u.id')
      .innerJoin('accounts as a', 'a.id', 'u.account_id')
      .select(['u.id', 'c.pin_hash', 'u.email', 'u.notification_email', 'a.language'])
      .where('u.account_id', '=', accountId)
      .where('u.extension_id', '=', extensionId)
      .executeTakeFirst();
    return row ? { id: row.id, pinHash: row.pin_hash ?? null, email: row.notification_email || row.email, language: row.language } : null;
  }

  /** The e-mail alert of issue 13: the mailbox was locked by wrong PINs. */
  private async alert(accountId: string, user: { id: string; email: string; language: string }): Promise<void> {
    if (!this.deps.jobs || !user.email) return;
    const fr = user.language === 'fr';
    const minutes = LOCKOUT_SECONDS / 60;
    await this.deps.jobs.add('email', 'mailbox_locked', {
      accountId,
      userId: user.id,
      purpose: 'mailbox_locked',
      to: user.email,
      subject: fr ? 'Votre messagerie a été verrouillée' : 'Your voicemail has been locked',
      text: fr
        ? `${PIN_FAILURES_BEFORE_LOCK} codes erronés ont été saisis pour accéder à votre messagerie par téléphone. Elle est verrouillée pendant ${minutes} minutes. Si ce n'était pas vous, changez votre code.`
        : `${PIN_FAILURES_BEFORE_LOCK} wrong PINs were entered to reach your voicemail by phone. It is locked for ${minutes} minutes. If this was not you, change your PIN.`,
    });
  }
}
