export * from './paging-rules.ts';
