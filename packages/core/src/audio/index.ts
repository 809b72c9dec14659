export * from './run-program.ts';
export * from './ffmpeg.ts';
export * from './media-audio.ts';
