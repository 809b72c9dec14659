import type { CallApp } from '../call-handle.ts';
import { takeMessage } from '../voicemail/take-message.ts';
import type { Mailboxes } from '../voicemail/mailboxes.ts';

/**
 * A message-only extension (inventory 2, MO-01): every call goes straight to
 * its mailbox without ringing. The caller hears the greeting (custom, or the
 * default text naming the extension), a beep, and is recorded until `#`, the
 * mailbox's longest message, or its hang-up. A full mailbox says so and
 * records nothing.
 */
export function messageOnlyApp(mailboxes: Mailboxes): CallApp {
  return async (call, destination) => {
    if (destination.kind !== 'voicemail') throw new TypeError(`message-only app given a ${destination.kind} destination`);
    await takeMessage(call, destination, destination.why, mailboxes);
  };
}

