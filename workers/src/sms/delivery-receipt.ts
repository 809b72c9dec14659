/**
 * Delivery receipts (SMPP 3.4 appendix B): a deliver_sm whose esm_class says
 * "SMSC delivery receipt", with a text such as
 * `id:0123456789 sub:001 dlvrd:001 submit date:2412061530 done date:2412061531 stat:DELIVRD err:000 text:Hello`,
 * and, from SMPP 3.4 carriers, the receipted_message_id and message_state TLVs
 * (§5.3.2.12, §5.3.2.35), which win over the text when present.
 */

export type ReceiptOutcome = 'delivered' | 'failed' | 'pending' | 'unknown';

export interface DeliveryReceipt {
  /** The carrier's message id from submit_sm_resp. */
  messageId: string;
  /** The stat field as sent (DELIVRD, UNDELIV, …). */
  stat: string;
  outcome: ReceiptOutcome;
  /** The err field (network-specific error code), or null. */
  error: string | null;
}

const STAT_OUTCOME: Readonly<Record<string, ReceiptOutcome>> = {
  DELIVRD: 'delivered',
  EXPIRED: 'failed',
  DELETED: 'failed',
  UNDELIV: 'failed',
  REJECTD: 'failed',
  ACCEPTD: 'pending',
  ENROUTE: 'pending',
  UNKNOWN: 'unknown',
};

/** message_state TLV values (§5.2.28) as stat words. */
const MESSAGE_STATE_STAT = ['SCHEDUL', 'ENROUTE', 'DELIVRD', 'EXPIRED', 'DELETED', 'UNDELIV', 'ACCEPTD', 'UNKNOWN', 'REJECTD', 'SKIPPED'];

/** Null when neither the text nor the TLVs name the message. */
export function parseDeliveryReceipt(text: string, tlvs: { receiptedMessageId?: unknown; messageState?: unknown } = {}): DeliveryReceipt | null {
  const field = (name: string): string | null => new RegExp(`(?:^|\\s)${name}:(\\S*)`, 'i').exec(text)?.[1] ?? null;
  const tlvId = typeof tlvs.receiptedMessageId === 'string' && tlvs.receiptedMessageId ? tlvs.receiptedMessageId : null;
  const messageId = tlvId ?? field('id');
  if (!messageId) return null;
  const tlvStat = typeof tlvs.messageState === 'number' ? MESSAGE_STATE_STAT[tlvs.messageState] : undefined;
  const stat = (tlvStat ?? field('stat') ?? 'UNKNOWN').toUpperCase();
  const err = field('err');
  return { messageId, stat, outcome: STAT_OUTCOME[stat] ?? 'unknown', error: err && err !== '000' && err !== '0' ? err : null };
}
