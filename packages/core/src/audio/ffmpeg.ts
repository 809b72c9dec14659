import { createRequire } from 'node:module';

/**
 * The ffmpeg to run: `FFMPEG_PATH` when set, else the static build shipped by
 * the `@ffmpeg-installer/ffmpeg` npm package, so a fresh machine needs no
 * Debian ffmpeg.
 */
export function ffmpegPath(override: string | undefined): string {
  if (override) return override;
  const require = createRequire(import.meta.url);
  return (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
}
