import { describe, expect, it } from 'vitest';
import { replacesFromUriHeaders } from '../../src/calls/replaces.ts';

describe('Replaces in a Refer-To URI (RFC 3891, RFC 3515 §2.1)', () => {
  it('reads the escaped dialog identifiers, in any parameter order', () => {
    expect(replacesFromUriHeaders('Replaces=abc%40host%3Bfrom-tag%3D2%3Bto-tag%3D1')).toEqual({ callId: 'abc@host', toTag: '1', fromTag: '2', earlyOnly: false });
    expect(replacesFromUriHeaders('X=1&replaces=abc%3Bto-tag%3D1%3Bfrom-tag%3D2%3Bearly-only')).toMatchObject({ callId: 'abc', earlyOnly: true });
  });

  it('tells a blind transfer (no Replaces) from a malformed one', () => {
    expect(replacesFromUriHeaders(null)).toBeNull();
    expect(replacesFromUriHeaders('Subject=hi')).toBeNull();
    expect(replacesFromUriHeaders('Replaces=abc%3Bto-tag%3D1')).toBe('invalid');
    expect(replacesFromUriHeaders('Replaces=%E0%A4%A')).toBe('invalid');
    expect(replacesFromUriHeaders('Replaces=')).toBe('invalid');
  });
});
