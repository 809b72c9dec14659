export * from './conference-bridge.ts';
export * from './conference-invite.ts';
