export * from './offer-answer.ts';
export * from './session-timer.ts';
export * from './invite-session.ts';
export * from './ack-routes.ts';
