import type { Permission } from '@carillon/domain';
import type { MessageKey } from './i18n/index.ts';
import type { UnreleasedArea } from './unreleased-features.ts';

/**
 * Portal tabs (seed 000 "Portail administrateur", "Mon extension"). A tab is
 * listed only once something real stands behind it; the others (Meetings,
 * Reports, Billing; Messages, Call Log, Contacts) arrive with their features.
 */
export interface NavTab {
  href: string;
  label: MessageKey;
  permission: Permission | null;
  /** A tab of an unreleased feature area: listed only where the server enables it. */
  area?: UnreleasedArea;
}

export const ADMIN_TABS: NavTab[] = [
  { href: '/admin', label: 'nav.home', permission: 'admin.portal' },
  { href: '/admin/users', label: 'nav.users', permission: 'users.view' },
  { href: '/admin/phone-system', label: 'nav.phoneSystem', permission: 'phone_system.view' },
  { href: '/admin/call-log', label: 'nav.callLog', permission: 'reports.company_call_log' },
  { href: '/admin/more', label: 'nav.more', permission: 'account.settings' },
];

/** The Users section's second row (seed 000: User List, Roles, User Groups). */
export const USERS_SUBTABS: NavTab[] = [
  { href: '/admin/users', label: 'usersList.tab.users', permission: 'users.view' },
  { href: '/admin/users/unassigned', label: 'usersList.tab.unassigned', permission: 'users.view' },
  { href: '/admin/users/bulk-edit', label: 'usersList.tab.bulkEdit', permission: 'users.manage' },
  { href: '/admin/users/templates', label: 'templates.title', permission: 'users.view' },
  { href: '/admin/users/roles', label: 'roles.tab', permission: 'roles.manage' },
  { href: '/admin/users/groups', label: 'groups.tab', permission: 'users.view' },
];

/** The Phone System section's second row; the groups of unreleased areas (issue 15) show only where enabled. */
export const PHONE_SYSTEM_SUBTABS: NavTab[] = [
  { href: '/admin/phone-system', label: 'phone.companyInfo', permission: 'phone_system.view' },
  { href: '/admin/phone-system/sites', label: 'sites.title', permission: 'phone_system.view' },
  { href: '/admin/phone-system/numbers', label: 'phone.numbers', permission: 'phone_system.view' },
  { href: '/admin/phone-system/devices', label: 'phone.devices', permission: 'phone_system.view' },
  { href: '/admin/phone-system/trunk', label: 'phone.trunk', permission: 'phone_system.view' },
  { href: '/admin/phone-system/ivr', label: 'ivr.title', permission: 'phone_system.view', area: 'ivr' },
  { href: '/admin/phone-system/call-queues', label: 'callQueues.admin.tab', permission: 'phone_system.view', area: 'queues' },
  { href: '/admin/phone-system/paging', label: 'paging.tab', permission: 'phone_system.view', area: 'paging' },
  { href: '/admin/phone-system/shared-lines', label: 'sharedLines.tab', permission: 'phone_system.view', area: 'shared_lines' },
  { href: '/admin/phone-system/monitoring', label: 'monitoring.tab', permission: 'phone_system.view', area: 'monitoring' },
  { href: '/admin/phone-system/park', label: 'park.tab', permission: 'phone_system.view', area: 'park' },
  { href: '/admin/phone-system/pickup', label: 'pickup.tab', permission: 'phone_system.view', area: 'park' },
];

export const USER_TABS: NavTab[] = [
  { href: '/me', label: 'nav.overview', permission: null },
  { href: '/me/phone', label: 'nav.phone', permission: 'self.calls' },
  { href: '/me/call-log', label: 'nav.callLog', permission: 'self.calls' },
  { href: '/me/contacts', label: 'nav.contacts', permission: 'self.calls' },
  { href: '/me/messages', label: 'nav.messages', permission: 'self.calls' },
  { href: '/me/fax', label: 'nav.fax', permission: 'self.calls' },
  { href: '/me/call-handling', label: 'answeringRules.link', permission: 'self.settings', area: 'answering_rules' },
  { href: '/me/call-queues', label: 'callQueues.agent.link', permission: 'self.calls', area: 'queues' },
  { href: '/me/conferencing', label: 'conference.link', permission: 'self.calls', area: 'conference' },
  { href: '/me/settings', label: 'nav.settings', permission: 'self.settings' },
];

export const visibleTabs = (tabs: NavTab[], permissions: ReadonlySet<Permission>, enabledAreas: readonly string[] = []) =>
  tabs.filter((tab) => (tab.permission === null || permissions.has(tab.permission)) && (!tab.area || enabledAreas.includes(tab.area)));
