export * from './shared-line-rules.ts';
