/**
 * What the services (app, media-server, workers) agree on, and nothing else:
 * job payloads and queue names, Redis keys and channels, and the commands and
 * events of the call-control channel. No service imports another service;
 * each imports these. No behaviour lives here beyond parsing and key naming.
 */
export * from './jobs.ts';
export * from './recording-export-filters.ts';
export * from './presence.ts';
export * from './registrations.ts';
export * from './media-server-heartbeat.ts';
export * from './workers-heartbeat.ts';
export * from './call-control.ts';
export * from './config-changes.ts';
export * from './sms-events.ts';
export * from './sms-limits.ts';
export * from './voicemail-events.ts';
export * from './call-records-events.ts';
export * from './channel-message.ts';
export * from './call-queues.ts';
export * from './park.ts';
