export * from './voicemail-inbox.ts';
export * from './greetings.ts';
export * from './mailbox-files.ts';
export * from './name-recording.ts';
