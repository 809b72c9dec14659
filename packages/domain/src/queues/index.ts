export * from './queue-settings.ts';
export * from './queue-distribution.ts';
export * from './queue-wait.ts';
