export * from './queue-settings.ts';
export * from './queue-distribution.ts';
