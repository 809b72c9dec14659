export * from './voicemail-inbox.ts';
export * from './greetings.ts';
