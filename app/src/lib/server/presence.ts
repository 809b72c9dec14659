import { BINDING_KEY_PREFIX, readBindings } from '@carillon/contracts/registrations';
import { PRESENCE_KEY_PREFIX, presenceField, type CallActivity } from '@carillon/contracts/presence';
import { readMediaServerHeartbeats } from '@carillon/contracts/media-server-heartbeat';
import type { Runtime } from './runtime.ts';

/** What colleagues see of each other (seed 000 "Ne pas déranger" and the presence icons). */
export type PresenceState = 'available' | 'on_call' | 'on_hold' | 'ringing' | 'dnd' | 'offline';

export interface PresenceEntry {
  extensionId: string;
  extension: string;
  name: string;
  state: PresenceState;
}

/**
 * Every user extension of the account with its state, from three inputs:
 * live registrations (the registrar's bindings in Redis), what calls do (each
 * live media-server node's hash), and the Do Not Disturb setting. A call
 * outranks DND (the person is busy either way), DND outranks being online.
 * A user whose every call is one they hold is "on hold" (a desk phone's lamp
 * blinks then); one other live call and they are on a call.
 */
export async function accountPresence(rt: Runtime, accountId: string): Promise<PresenceEntry[]> {
  const users = await rt.db
    .selectFrom('users')
    .innerJoin('extensions', (j) => j.onRef('extensions.id', '=', 'users.extension_id').on('extensions.account_id', '=', accountId))
    .select(['extensions.id as extension_id', 'extensions.number', 'extensions.dnd_status', 'extensions.status', 'users.first_name', 'users.last_name'])
    .where('users.account_id', '=', accountId)
    .orderBy('extensions.number')
    .execute();
  const now = Date.now();
  const bindings = (users.length ? await rt.redis.pipeline(users.map((u) => ['hgetall', `${BINDING_KEY_PREFIX}${u.extension_id}`])).exec() : []) ?? [];
  const nodes = await readMediaServerHeartbeats(rt.redis);
  const activity = new Map<string, CallActivity>();
  for (const node of nodes) {
    const hash = await rt.redis.hgetall(`${PRESENCE_KEY_PREFIX}${node.nodeId}`);
    for (const [field, value] of Object.entries(hash)) {
      if (!field.startsWith(`${accountId}:`)) continue;
      try {
        const v = JSON.parse(value) as CallActivity;
        const sum = activity.get(field) ?? { ringing: 0, onCall: 0, held: 0 };
        activity.set(field, { ringing: sum.ringing + (v.ringing || 0), onCall: sum.onCall + (v.onCall || 0), held: (sum.held ?? 0) + (v.held || 0) });
      } catch {
        // Not ours to read: skipped.
      }
    }
  }
  return users.map((u, i) => {
    const online = readBindings((bindings[i]?.[1] ?? {}) as Record<string, string>, now).live.length > 0;
    const calls = activity.get(presenceField(accountId, u.extension_id));
    const state: PresenceState = calls?.onCall ? ((calls.held ?? 0) >= calls.onCall ? 'on_hold' : 'on_call') : calls?.ringing ? 'ringing' : u.dnd_status === 'no_calls' ? 'dnd' : online ? 'available' : 'offline';
    return { extensionId: u.extension_id, extension: u.number, name: `${u.first_name} ${u.last_name ?? ''}`.trim(), state };
  });
}
