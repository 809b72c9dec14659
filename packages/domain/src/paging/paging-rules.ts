import { z } from 'zod';

/**
 * Paging-only groups (inventory 2 §11, PG-01…PG-03): the rules, with no I/O.
 * core stores them, media-server's paging application applies them to calls.
 */

/**
 * Devices one page reaches at most. A page is one outbound call per device, all at once, each a
 * listener of the pager's room: bounded like every list an admin can grow, and low enough that one
 * page cannot take a node's ports and call slots (a room holds 1,000; a node's calls are limited too).
 */
export const MAX_PAGING_RECEIVERS = 50;
/** Users allowed to page one group (PG-03 "Users Allowed to Page this Group"). */
export const MAX_PAGING_PAGERS = 500;

const uuidList = (max: number) =>
  z
    .array(z.string().uuid())
    .max(max)
    .refine((ids) => new Set(ids).size === ids.length, 'each one once');

/**
 * PG-02 "Add Paging Group" (Group Name, Extension Number), PG-03 the status (enabled or disabled),
 * the devices that receive the page and the users (their extensions) allowed to page.
 */
const fields = {
  name: z.string().trim().min(1).max(60),
  number: z.string().regex(/^[0-9]{2,9}$/, 'an extension number: 2 to 9 digits'),
  enabled: z.boolean(),
  siteId: z.string().uuid().nullable(),
  receiverDeviceIds: uuidList(MAX_PAGING_RECEIVERS),
  pagerExtensionIds: uuidList(MAX_PAGING_PAGERS),
};

export const pagingGroupInput = z
  .object({
    ...fields,
    enabled: fields.enabled.default(true),
    siteId: fields.siteId.default(null),
    receiverDeviceIds: fields.receiverDeviceIds.default([]),
    pagerExtensionIds: fields.pagerExtensionIds.default([]),
  })
  .strict();
export type PagingGroupInput = z.input<typeof pagingGroupInput>;

/** An edit: any of the fields (no defaults: a field left out is left as it is); the lists, when given, replace the stored ones. */
export const pagingGroupUpdate = z.object(fields).partial().strict();
export type PagingGroupUpdate = z.input<typeof pagingGroupUpdate>;

/** PG-03: only the users allowed to page this group may page it. A caller with no extension (an outside caller) never may. */
export function mayPage(pagers: readonly string[], extensionId: string | null): boolean {
  return extensionId !== null && pagers.includes(extensionId);
}
