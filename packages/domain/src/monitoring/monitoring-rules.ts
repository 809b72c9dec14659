import { z } from 'zod';

/**
 * Call monitoring (inventory 2 §14, MON-01…MON-02): the rules, with no I/O.
 * core stores the groups, media-server applies them to live calls.
 */

/** Monitors, or monitored users, of one group: bounded, as every list an admin can grow. */
export const MAX_MONITORING_GROUP_MEMBERS = 500;

/**
 * MON-01's four actions: listen (the monitor hears both parties and is not
 * heard), whisper (only the monitored user hears the monitor), barge (a
 * three-way call) and take over (the monitored user is dropped, the monitor
 * stays with the other party).
 */
export const MONITOR_MODES = ['listen', 'whisper', 'barge', 'takeover'] as const;
export type MonitorMode = (typeof MONITOR_MODES)[number];

const uuidList = z
  .array(z.string().uuid())
  .max(MAX_MONITORING_GROUP_MEMBERS)
  .refine((ids) => new Set(ids).size === ids.length, 'each user once');

/**
 * MON-02's three steps: the group's name, the users that can monitor, the
 * users that can be monitored. A user may be in both lists.
 */
export const monitoringGroupInput = z.strictObject({
  name: z.string().trim().min(1).max(60),
  monitorExtensionIds: uuidList.default([]),
  monitoredExtensionIds: uuidList.default([]),
});
export type MonitoringGroupInput = z.input<typeof monitoringGroupInput>;

/**
 * Whether `monitor` may monitor the calls of `target`: one group lists the
 * first as a monitor and the second as monitored. Nobody monitors their own
 * calls (they are on them already).
 */
export function mayMonitor(
  groups: readonly { monitors: readonly string[]; monitored: readonly string[] }[],
  monitorExtensionId: string | null,
  targetExtensionId: string,
): boolean {
  if (!monitorExtensionId || monitorExtensionId === targetExtensionId) return false;
  return groups.some((g) => g.monitors.includes(monitorExtensionId) && g.monitored.includes(targetExtensionId));
}
