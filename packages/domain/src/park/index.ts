export * from './park-rules.ts';
