/**
 * Do Not Disturb (inventory 1 §4, seed 000 "Ne pas déranger"): three states.
 * "Take no calls" sends every call to voicemail; "take no call-queue calls"
 * sends those a queue offers. Direct calls are tested against the third state
 * only, queue calls against the second and third.
 */
export const DND_STATUSES = ['take_all_calls', 'no_queue_calls', 'no_calls'] as const;
export type DndStatus = (typeof DND_STATUSES)[number];

/** Whether an extension in this Do Not Disturb state takes a call arriving this way. */
export function dndTakesCall(status: DndStatus, via: 'direct' | 'queue'): boolean {
  if (status === 'no_calls') return false;
  return !(status === 'no_queue_calls' && via === 'queue');
}
