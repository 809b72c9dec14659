import { z } from 'zod';

/**
 * Park locations (inventory 2 §13, PK-01…PK-03) and directed call pickup
 * (§15, PU-01…PU-02): the rules, with no I/O. core stores them, media-server
 * applies them to live calls.
 */

/** PK-01: at most 100 park locations per account. */
export const MAX_PARK_LOCATIONS = 100;
/** Members of one park location or one pickup group: bounded, as every list an admin can grow. */
export const MAX_PARK_LOCATION_MEMBERS = 500;
export const MAX_PICKUP_GROUP_MEMBERS = 500;
/** How long a parked call waits before it rings back the one who parked it, when nothing else is configured. */
export const DEFAULT_PARK_RECALL_SECONDS = 60;

const uuidList = (max: number) =>
  z
    .array(z.string().uuid())
    .max(max)
    .refine((ids) => new Set(ids).size === ids.length, 'each member once');

/** PK-02: "Add Park Location": a name and an extension number, the status (Details tab); PK-03: its members (users' extensions). */
const parkFields = {
  name: z.string().trim().min(1).max(60),
  number: z.string().regex(/^[0-9]{2,9}$/, 'an extension number: 2 to 9 digits'),
  enabled: z.boolean(),
  siteId: z.string().uuid().nullable(),
  memberExtensionIds: uuidList(MAX_PARK_LOCATION_MEMBERS),
};
export const parkLocationInput = z
  .object({ ...parkFields, enabled: parkFields.enabled.default(true), siteId: parkFields.siteId.default(null), memberExtensionIds: parkFields.memberExtensionIds.default([]) })
  .strict();
export type ParkLocationInput = z.input<typeof parkLocationInput>;
/** An edit (PK-02 Details, PK-03 Location Members): a field left out is left as it is; the members, when given, replace the stored ones. */
export const parkLocationUpdate = z.object(parkFields).partial().strict();
export type ParkLocationUpdate = z.input<typeof parkLocationUpdate>;

/** PU-02: "Add Details" (name, site), then "Select Members" (any site). */
const pickupFields = {
  name: z.string().trim().min(1).max(60),
  siteId: z.string().uuid().nullable(),
  memberExtensionIds: uuidList(MAX_PICKUP_GROUP_MEMBERS),
};
export const pickupGroupInput = z.object({ ...pickupFields, siteId: pickupFields.siteId.default(null), memberExtensionIds: pickupFields.memberExtensionIds.default([]) }).strict();
export type PickupGroupInput = z.input<typeof pickupGroupInput>;
/** An edit of a pickup group: a field left out is left as it is; the members, when given, replace the stored ones. */
export const pickupGroupUpdate = z.object(pickupFields).partial().strict();
export type PickupGroupUpdate = z.input<typeof pickupGroupUpdate>;

/** Whether the account may have one more park location (PK-01). */
export function canAddParkLocation(existing: number): boolean {
  return existing < MAX_PARK_LOCATIONS;
}

/**
 * PK-03: "if an added user belongs to a ring group (call queue), all members of that group must also be
 * added". For each queue holding one of the chosen members, the queue's members left out; empty when the
 * choice is complete.
 */
export function queueMembersLeftOut(members: readonly string[], queues: readonly { queue: string; members: readonly string[] }[]): { queue: string; missing: string[] }[] {
  const chosen = new Set(members);
  return queues
    .filter((q) => q.members.some((m) => chosen.has(m)))
    .map((q) => ({ queue: q.queue, missing: q.members.filter((m) => !chosen.has(m)) }))
    .filter((q) => q.missing.length > 0);
}

/**
 * PK-03: only members park to or retrieve from a location. A caller with no
 * extension (an outside caller) is never a member.
 */
export function mayUseParkLocation(members: ReadonlySet<string> | readonly string[], extensionId: string | null): boolean {
  if (!extensionId) return false;
  return Array.isArray(members) ? members.includes(extensionId) : (members as ReadonlySet<string>).has(extensionId);
}

/**
 * PU-01: a member picks up a call ringing on another member's extension of
 * one of its groups; nobody picks up their own extension's call (that is just
 * answering it).
 */
export function mayPickUp(groups: readonly { members: readonly string[] }[], diallerExtensionId: string | null, targetExtensionId: string): boolean {
  if (!diallerExtensionId || diallerExtensionId === targetExtensionId) return false;
  return groups.some((g) => g.members.includes(diallerExtensionId) && g.members.includes(targetExtensionId));
}

/**
 * What happens to a call parked on a location, one call per location (PK-01):
 *
 *   (free) --park--> Parked --retrieve--> (free)
 *                      |  \--hang-up--> (free)
 *                      '--recall timeout--> Recalling --parker answers / retrieve / hang-up / no answer--> (free)
 *
 * A second park on an occupied location is refused; the recall rings the one
 * who parked the call, once.
 */
export type ParkRefusal = 'occupied' | 'not-a-member' | 'disabled';
