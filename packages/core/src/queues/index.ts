export * from './queue-store.ts';
export * from './queue-managers.ts';
export * from './queue-notifications.ts';
