export * from './voicemail-inbox.ts';
