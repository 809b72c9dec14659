import { describe, expect, it } from 'vitest';
import { IllegalOfferAnswerMove, OfferAnswer } from '../../../src/sip/session/index.ts';
import { expiryGuardSeconds, readSessionExpires } from '../../../src/sip/session/index.ts';
import { SipRequest } from '../../../src/sip/message/index.ts';

describe('offer/answer state (RFC 3264)', () => {
  it('goes offer then answer, either way, and back to Stable when an offer is refused', () => {
    const oa = new OfferAnswer();
    oa.transition('HaveRemoteOffer');
    expect(oa.pending).toBe(true);
    oa.transition('Stable');
    oa.transition('HaveLocalOffer');
    oa.transition('Stable');
    expect(oa.state).toBe('Stable');
    expect(oa.pending).toBe(false);
  });

  it('refuses an answer with no offer out, and a second offer over a pending one', () => {
    const oa = new OfferAnswer();
    expect(() => oa.transition('Stable')).toThrow(IllegalOfferAnswerMove);
    oa.transition('HaveLocalOffer');
    expect(() => oa.transition('HaveRemoteOffer')).toThrow(IllegalOfferAnswerMove);
    expect(oa.state).toBe('HaveLocalOffer');
  });
});

describe('session timer headers (RFC 4028)', () => {
  const withHeader = (value: string) => new SipRequest('INVITE', 'sip:x@y').add('session-expires', value);

  it('reads the interval and the refresher, and refuses what is not a delta', () => {
    expect(readSessionExpires(withHeader('1800;refresher=uas'))).toEqual({ seconds: 1800, refresher: 'uas' });
    expect(readSessionExpires(withHeader('90'))).toEqual({ seconds: 90, refresher: null });
    expect(readSessionExpires(withHeader('soon;refresher=uac'))).toBeNull();
    expect(readSessionExpires(new SipRequest('INVITE', 'sip:x@y'))).toBeNull();
  });

  it('gives up at the interval less min(32 s, a third) when the peer refreshes (§10)', () => {
    expect(expiryGuardSeconds(1800)).toBe(1768);
    expect(expiryGuardSeconds(90)).toBe(60);
  });
});
