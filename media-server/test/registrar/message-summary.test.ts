import { describe, expect, it } from 'vitest';
import { formatMessageSummary, sameCounts } from '../../src/registrar/message-summary.ts';

describe('formatMessageSummary (RFC 3842 §5.2)', () => {
  it('says no message waiting for an empty mailbox, with CRLF line ends', () => {
    expect(formatMessageSummary({ newMessages: 0, oldMessages: 0, urgentNew: 0, urgentOld: 0 })).toBe('Messages-Waiting: no\r\nVoice-Message: 0/0 (0/0)\r\n');
  });

  it('says yes while a message is new, with new/old and the urgent ones in brackets', () => {
    expect(formatMessageSummary({ newMessages: 2, oldMessages: 8, urgentNew: 0, urgentOld: 2 })).toBe('Messages-Waiting: yes\r\nVoice-Message: 2/8 (0/2)\r\n');
  });

  it('says no when every message was heard, however many', () => {
    expect(formatMessageSummary({ newMessages: 0, oldMessages: 5, urgentNew: 0, urgentOld: 1 })).toBe('Messages-Waiting: no\r\nVoice-Message: 0/5 (0/1)\r\n');
  });

  it('names the message account after the status line when given (§5.2)', () => {
    expect(formatMessageSummary({ newMessages: 1, oldMessages: 0, urgentNew: 1, urgentOld: 0 }, 'sip:101@carillon.test')).toBe('Messages-Waiting: yes\r\nMessage-Account: sip:101@carillon.test\r\nVoice-Message: 1/0 (1/0)\r\n');
  });

  it('compares counts field by field', () => {
    const a = { newMessages: 1, oldMessages: 2, urgentNew: 0, urgentOld: 0 };
    expect(sameCounts(a, { ...a })).toBe(true);
    expect(sameCounts(a, { ...a, urgentOld: 1 })).toBe(false);
    expect(sameCounts(a, { ...a, newMessages: 0 })).toBe(false);
  });
});
