export * from './monitoring-rules.ts';
