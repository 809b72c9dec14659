import { describe, expect, it } from 'vitest';
import { LocalSdp } from '../../src/calls/local-sdp.ts';
import { AUDIO_LEVEL_URI, newLocalWebRtc, readPeerWebRtc } from '../../src/calls/webrtc-media.ts';
import { parseSdp } from '../../src/sdp/session-description.ts';

/** A browser's offer as Chromium writes it (trimmed to the audio section), with the extensions it offers. */
const offer = (extmaps: string[]) =>
  [
    'v=0',
    'o=- 1 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 126',
    'c=IN IP4 0.0.0.0',
    'a=ice-ufrag:abcd',
    'a=ice-pwd:abcdefghijklmnopqrstuvwx',
    'a=fingerprint:sha-256 AA:BB',
    'a=setup:actpass',
    'a=mid:0',
    ...extmaps,
    'a=sendrecv',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=rtpmap:126 telephone-event/8000',
    '',
  ].join('\r\n');

const peerOf = (text: string) => {
  const sdp = parseSdp(text)!;
  return readPeerWebRtc(sdp, sdp.media[0]!)!;
};

describe('the RFC 6464 audio level extension of a browser leg', () => {
  it("reads the browser's id for it among the other extensions (RFC 8285 §8, with or without a direction)", () => {
    expect(peerOf(offer(['a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level', 'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time'])).audioLevelId).toBe(1);
    expect(peerOf(offer(['a=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time', `a=extmap:7/sendonly ${AUDIO_LEVEL_URI}`])).audioLevelId).toBe(7);
    expect(peerOf(offer(['a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time'])).audioLevelId).toBeNull();
    // 15 is reserved in the one-byte form, 0 is not an id (RFC 8285 §4.2, §5): refused rather than misread.
    expect(peerOf(offer([`a=extmap:15 ${AUDIO_LEVEL_URI}`])).audioLevelId).toBeNull();
    expect(peerOf(offer([`a=extmap:0 ${AUDIO_LEVEL_URI}`])).audioLevelId).toBeNull();
  });

  it("echoes it in our answer with the browser's id when asked to, and leaves it out otherwise", () => {
    const peer = peerOf(offer([`a=extmap:4 ${AUDIO_LEVEL_URI}`]));
    const opus = { payloadType: 111, name: 'opus', clockRate: 48000, channels: 2, fmtp: null };
    const build = (audioLevelId: number | null) =>
      new LocalSdp().build({ address: '127.0.0.1', port: 40000, codecs: [opus], telephoneEvent: null, webrtc: newLocalWebRtc('sha-256 CC:DD', 'passive', peer.mid, audioLevelId) }).toString();
    expect(build(peer.audioLevelId)).toContain(`\r\na=extmap:4 ${AUDIO_LEVEL_URI}\r\n`);
    expect(build(null)).not.toContain('extmap');
    // What we answer parses back to the same id.
    expect(peerOf(build(peer.audioLevelId)).audioLevelId).toBe(4);
  });
});
