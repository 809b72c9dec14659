/** Recording exports: where a ZIP lives, and expiring it. */
export * from './export-paths.ts';
export * from './expired-exports.ts';
