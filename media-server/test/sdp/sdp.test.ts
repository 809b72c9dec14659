import { describe, expect, it } from 'vitest';
import { answerDirection, isHold, mediaAddress, parseSdp, serializeSdp } from '../../src/sdp/session-description.ts';
import { chooseCodec } from '../../src/sdp/negotiate-codecs.ts';

const OFFER = [
  'v=0',
  'o=user1 53655765 2353687637 IN IP4 192.0.2.5',
  's=-',
  'c=IN IP4 192.0.2.5',
  't=0 0',
  'm=audio 6000 RTP/AVP 8 0 101',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=ptime:20',
  'a=sendrecv',
  '',
].join('\r\n');

describe('SDP (RFC 4566, RFC 3264)', () => {
  it('reads the audio section, static payload types included', () => {
    const sdp = parseSdp(OFFER)!;
    const audio = sdp.media[0]!;
    expect([audio.port, mediaAddress(sdp, audio), audio.direction, audio.ptime]).toEqual([6000, '192.0.2.5', 'sendrecv', 20]);
    expect(audio.codecs.map((c) => `${c.payloadType}/${c.name}`)).toEqual(['8/PCMA', '0/PCMU', '101/telephone-event']);
    expect(audio.codecs[2]!.fmtp).toBe('0-15');
  });

  it('round-trips', () => {
    const sdp = parseSdp(OFFER)!;
    expect(parseSdp(serializeSdp(sdp))).toEqual(sdp);
  });

  it('keeps the offerer’s codec order and finds its telephone-event', () => {
    const choice = chooseCodec(parseSdp(OFFER)!.media[0]!.codecs)!;
    expect(choice.audio.name).toBe('PCMA');
    expect(choice.telephoneEvent?.payloadType).toBe(101);
    expect(chooseCodec([{ payloadType: 18, name: 'G729', clockRate: 8000, channels: 1, fmtp: null }])).toBeNull();
  });

  it('recognises hold in both styles', () => {
    expect(isHold(parseSdp(OFFER.replace('a=sendrecv', 'a=sendonly'))!)).toBe(true);
    expect(isHold(parseSdp(OFFER.replace('a=sendrecv', 'a=inactive'))!)).toBe(true);
    expect(isHold(parseSdp(OFFER.replace('c=IN IP4 192.0.2.5', 'c=IN IP4 0.0.0.0'))!)).toBe(true);
    expect(isHold(parseSdp(OFFER)!)).toBe(false);
    expect(answerDirection('sendonly')).toBe('recvonly');
  });

  it('refuses what is not SDP', () => {
    expect(parseSdp('hello')).toBeNull();
    expect(parseSdp('v=0\r\nm=audio x RTP/AVP 0\r\n')).toBeNull();
  });
});
