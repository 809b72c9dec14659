/** Faxes: composing one (app and e-mail to fax), where its files live, its cover settings and its route. */
export * from './fax-compose.ts';
export * from './fax-paths.ts';
export * from './fax-cover-settings.ts';
export * from './fax-routes.ts';
export * from './attachment-kind.ts';
