/** Paths of the audio files shipped in static/audio (see its README for how they were made). */
import { fileURLToPath } from 'node:url';

const STATIC_AUDIO = new URL('../../../../static/audio/', import.meta.url);

export function staticAudioPath(name: 'hold-music.wav' | 'ringback-us.wav'): string {
  return fileURLToPath(new URL(name, STATIC_AUDIO));
}
