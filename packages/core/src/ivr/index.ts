export * from './safe-xml.ts';
export * from './ivr-xml.ts';
export * from './ivr-samples.ts';
export * from './ivr-store.ts';
export * from './ivr-prompts.ts';
export * from './tts.ts';
export * from './company-rules.ts';
export * from './company-greeting.ts';
