import type { Translate } from '#lib/i18n/index.ts';

/** The group pages that create and edit their groups in a form on the list's page (park, pickup, monitoring). */
export type GroupFeature = 'park' | 'pickup' | 'monitoring';

/** A user with an extension, as the group pages offer it (UserExtensionChoice, by extension number). */
export interface GroupUser {
  extensionId: string;
  name: string;
  number: string;
  siteId: string | null;
}

/**
 * A group's members for its row in the list, "name, ext. number; …", in the users' order (by extension
 * number), so every group page lists them alike; an id the list lacks (a limited extension) shows as is, last.
 */
export function memberLabels(t: Translate, feature: GroupFeature, users: readonly GroupUser[], ids: readonly string[]): string {
  const known = users.filter((u) => ids.includes(u.extensionId)).map((u) => t(`${feature}.user`, { name: u.name, number: u.number }));
  const unknown = ids.filter((id) => !users.some((u) => u.extensionId === id));
  return [...known, ...unknown].join('; ');
}
