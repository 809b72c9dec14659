/**
 * The message-summary event package (RFC 3842): what a phone's message-waiting
 * lamp shows for its mailbox.
 */
export const MESSAGE_SUMMARY_EVENT = 'message-summary';
/** RFC 3842 §5.1: the body of every NOTIFY of the package. */
export const MESSAGE_SUMMARY_TYPE = 'application/simple-message-summary';

/** A mailbox's voice messages: new (not heard) and old (heard), not in the trash; the urgent ones among each. */
export interface MailboxCounts {
  newMessages: number;
  oldMessages: number;
  urgentNew: number;
  urgentOld: number;
}

export const sameCounts = (a: MailboxCounts, b: MailboxCounts): boolean =>
  a.newMessages === b.newMessages && a.oldMessages === b.oldMessages && a.urgentNew === b.urgentNew && a.urgentOld === b.urgentOld;

/**
 * The simple-message-summary body of RFC 3842 §5.2:
 *
 *   Messages-Waiting: yes
 *   Message-Account: sip:101@example.com
 *   Voice-Message: 2/8 (0/2)
 *
 * "yes" when there is at least one new message (§5.2: the status line says whether
 * messages "are waiting", which a phone shows as its lamp), and the counts as
 * new/old (urgent new/urgent old). Lines end in CRLF, as the grammar (§5.2) says.
 */
export function formatMessageSummary(counts: MailboxCounts, messageAccount?: string): string {
  const lines = [`Messages-Waiting: ${counts.newMessages > 0 ? 'yes' : 'no'}`];
  if (messageAccount) lines.push(`Message-Account: ${messageAccount}`);
  lines.push(`Voice-Message: ${counts.newMessages}/${counts.oldMessages} (${counts.urgentNew}/${counts.urgentOld})`);
  return lines.map((l) => `${l}\r\n`).join('');
}
