export * from './conference-bridge.ts';
