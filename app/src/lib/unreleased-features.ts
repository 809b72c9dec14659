import type { Permission } from '@carillon/domain';

/**
 * Settings and permissions of features that do not exist yet (voicemail, SMS, call queues,
 * meetings, reports, billing). The data model keeps them, so nothing is lost when the feature
 * arrives; the UI hides them until then, because a switch that leads nowhere misleads. Remove a
 * line here when its feature ships.
 */
export const UNRELEASED_PERMISSIONS: ReadonlySet<Permission> = new Set<Permission>(['meetings.manage', 'reports.view', 'billing.view', 'billing.manage']);

/** Notification e-mails with nothing behind them yet: voicemail and text messages (SMS). */
export const UNRELEASED_NOTIFICATIONS: ReadonlySet<string> = new Set(['voicemail', 'textMessages']);

/** Do Not Disturb statuses about call queues, which do not exist yet. */
export const UNRELEASED_DND: ReadonlySet<string> = new Set(['no_queue_calls']);
