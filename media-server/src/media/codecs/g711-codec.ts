/** G.711 as AudioCodec objects: stateless, so one shared instance of each. */
import type { AudioCodec } from './audio-codec.ts';
import { pcmaDecode, pcmaEncode, pcmuDecode, pcmuEncode } from './g711.ts';

export const PCMU: AudioCodec = {
  name: 'PCMU',
  clockRate: 8000,
  sampleRate: 8000,
  decode(payload, offset, length, pcm) {
    pcmuDecode(payload, pcm, length, offset);
    return length;
  },
  encode(pcm, count, out, outOffset) {
    pcmuEncode(pcm, out, count, outOffset);
    return count;
  },
};

export const PCMA: AudioCodec = {
  name: 'PCMA',
  clockRate: 8000,
  sampleRate: 8000,
  decode(payload, offset, length, pcm) {
    pcmaDecode(payload, pcm, length, offset);
    return length;
  },
  encode(pcm, count, out, outOffset) {
    pcmaEncode(pcm, out, count, outOffset);
    return count;
  },
};

/** RFC 3551 static payload types. */
export const STATIC_PAYLOAD_TYPES: Readonly<Record<string, number>> = { PCMU: 0, PCMA: 8 };
