import { describe, expect, it } from 'vitest';
import { parseDeliveryReceipt } from '../src/sms/delivery-receipt.ts';
import { MultipartAssembler } from '../src/sms/multipart-assembler.ts';

describe('delivery receipts (SMPP 3.4 appendix B)', () => {
  it('reads id, stat and err from the text', () => {
    expect(parseDeliveryReceipt('id:7f3a sub:001 dlvrd:001 submit date:2412061530 done date:2412061531 stat:DELIVRD err:000 text:Hello')).toEqual({ messageId: '7f3a', stat: 'DELIVRD', outcome: 'delivered', error: null });
    expect(parseDeliveryReceipt('id:9 sub:001 dlvrd:000 submit date:2412061530 done date:2412061531 stat:UNDELIV err:034 text:')).toEqual({ messageId: '9', stat: 'UNDELIV', outcome: 'failed', error: '034' });
    expect(parseDeliveryReceipt('id:9 stat:ENROUTE')!.outcome).toBe('pending');
  });

  it('prefers the receipted_message_id and message_state TLVs', () => {
    expect(parseDeliveryReceipt('id:wrong stat:DELIVRD', { receiptedMessageId: 'right', messageState: 5 })).toMatchObject({ messageId: 'right', stat: 'UNDELIV', outcome: 'failed' });
  });

  it('returns null without a message id', () => {
    expect(parseDeliveryReceipt('stat:DELIVRD err:000')).toBeNull();
    expect(parseDeliveryReceipt('garbage')).toBeNull();
  });
});

describe('inbound multipart reassembly', () => {
  const part = (reference: number, sequence: number, text: string, total = 3) => ({ from: '+1', to: '+2', text, encoding: 'gsm7' as const, reference, total, sequence });

  it('joins parts in sequence order, whatever order they came in, and counts a repeated part once', () => {
    const a = new MultipartAssembler({ maxPending: 10, maxAgeMs: 1000 });
    expect(a.add(part(1, 3, 'C'), 0)).toEqual([]);
    expect(a.add(part(1, 1, 'A'), 0)).toEqual([]);
    expect(a.add(part(1, 1, 'A'), 0)).toEqual([]);
    expect(a.add(part(1, 2, 'B'), 0)).toEqual([{ from: '+1', to: '+2', text: 'ABC', encoding: 'gsm7', parts: 3, complete: true }]);
    expect(a.size).toBe(0);
  });

  it('is bounded: the oldest incomplete message is handed on as it is when the store is full, or when it is too old', () => {
    const a = new MultipartAssembler({ maxPending: 2, maxAgeMs: 1000 });
    a.add(part(1, 1, 'a'), 0);
    a.add(part(2, 1, 'b'), 0);
    expect(a.add(part(3, 1, 'c'), 0)).toEqual([{ from: '+1', to: '+2', text: 'a', encoding: 'gsm7', parts: 1, complete: false }]);
    expect(a.size).toBe(2);
    expect(a.expire(999)).toEqual([]);
    expect(a.expire(1000).map((m) => m.text)).toEqual(['b', 'c']);
    expect(a.size).toBe(0);
  });
});
