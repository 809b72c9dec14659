export * from './queue-store.ts';
