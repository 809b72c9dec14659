export * from './ivr-config.ts';
export * from './ivr-interpreter.ts';
export * from './ivr-validation.ts';
export * from './ivr-entry.ts';
export * from './company-rules.ts';
export * from './directory.ts';
