import type { MusicTrack } from '@carillon/domain';
import { staticAudioPath } from '../media/index.ts';

/**
 * The file of a stock track (inventory 2 X-02: music while connecting and on hold, eleven of them), as
 * shipped in static/audio/music/ (each its own 8 s loop, static/audio/README.md says how they were made).
 */
export function stockMusicPath(track: MusicTrack): string {
  return staticAudioPath(`music/${track}.wav`);
}
