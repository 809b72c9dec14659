export * from './schedule.ts';
export * from './rules.ts';
export * from './ring-plan.ts';
export * from './do-not-disturb.ts';
export * from './user-answering.ts';
