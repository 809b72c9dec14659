import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { Logger } from '@carillon/config';
import type { Database } from '@carillon/db';
import { redisRateLimiter, verifySecret, type RateLimiter } from '@carillon/core';
import type { JobProducer } from '@carillon/core/jobs';
import { markVoicemail, trashVoicemail, voicemailFilePath, type VoicemailChange, type VoicemailReader } from '@carillon/core/voicemail';
import { VOICEMAIL_EVENTS_CHANNEL, type VoicemailEvent } from '@carillon/contracts/voicemail-events';
import { LOCKOUT_SECONDS, PIN_FAILURES_BEFORE_LOCK, type MailboxAccess, type PhoneMessage, type PinCheck } from '../apps/mailbox/mailbox-access.ts';

export interface MailboxPhoneAccessDeps {
  db: Kysely<Database>;
  redis: Redis;
  /** Publishes the 'changed' event (contracts/voicemail-events.ts). */
  publish(channel: string, message: string): Promise<unknown>;
  /** DATA_DIR: messages' audio paths are relative to it. */
  dataDir: string;
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
 */
export class MailboxPhoneAccess implements MailboxAccess {
  private readonly deps: MailboxPhoneAccessDeps;
  private readonly failures: RateLimiter;

  constructor(deps: MailboxPhoneAccessDeps) {
    this.deps = deps;
    this.failures = redisRateLimiter(deps.redis, FAILURES_PREFIX);
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
    const rows = await this.deps.db
      .selectFrom('voicemail_messages')
      .select(['id', 'audio_path', 'from_number'])
      .where('account_id', '=', accountId)
      .where('mailbox_extension_id', '=', extensionId)
      .where('status', '=', 'new')
      .where('deleted_at', 'is', null)
      .orderBy('created_at')
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
