export * from './headers.ts';
export * from './sip-uri.ts';
export * from './name-addr.ts';
export * from './via.ts';
export * from './sip-message.ts';
export * from './parse-message.ts';
export * from './serialize-message.ts';
