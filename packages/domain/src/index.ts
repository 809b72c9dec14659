export * from './permissions.ts';
export * from './credential-rules.ts';
export * from './regional.ts';
export * from './timestamps.ts';
export * from './emergency.ts';
export * from './fax.ts';
