export * from './meetings.ts';
