export * from './sms-messages.ts';
export * from './sms-carriers.ts';
export * from './sms-inbox.ts';
export * from './sms-registrations.ts';
export * from './sms-campaigns.ts';
export * from './sms-numbers.ts';
export * from './sms-daily-cap.ts';
