import { MAX_PAGING_RECEIVERS, mayPage } from '@carillon/domain';
import { CallEndedError, type BridgeOutcome, type CallApp } from '../call-handle.ts';
import type { PagingGroups } from './paging-groups.ts';

/** How long a receiving device may take to answer: auto-answer is at once; a phone that ignores the hint rings this long. */
export const PAGE_RING_SECONDS = 15;
/** The "go ahead" beep the pager hears once the page opens (a desk phone's paging key gives the same cue). */
export const GO_AHEAD_TONE = { tone: 440, durationMs: 300 } as const;

export interface PagingAppDeps {
  groups: PagingGroups;
  log?: { warn(message: string, fields?: Record<string, unknown>): void };
}

/**
 * Paging-only groups (inventory 2 §11 PG-01…PG-03; issue 15 point 2): `*84` + the group's number
 * (or its extension) opens a one-way broadcast. The refusals, before anything is answered:
 * - 403 "Not Allowed To Page": the caller is not one of the users allowed to page the group (an
 *   outside caller never is);
 * - 480 "No Paging Receivers": the group has no receiving device;
 * - 404 "Not A Paging Group": the group is gone (deleted since the dial plan read it).
 * An unknown or disabled group never gets here: the dial plan refuses `*84` + its number with 404
 * "Not A Paging Group", and the extension of a disabled group with 480, as any disabled extension.
 *
 * An allowed pager is answered, hears a short beep, and joins a room of its own as its only speaker;
 * each receiving device (at most MAX_PAGING_RECEIVERS) gets an outbound leg (CallHandle.dialOut) with
 * the auto-answer hint, and joins the room as a listener: the receivers hear the pager, the pager
 * hears nobody (listeners are never heard), and receivers never hear each other. When the pager hangs
 * up, every receiver gets a BYE (a CANCEL if it still rings); a receiver that hangs up leaves alone.
 */
export function pagingApp(deps: PagingAppDeps): CallApp {
  return async (call, destination) => {
    if (destination.kind !== 'page') return call.reject(480, 'Paging Not Available');
    const group = await deps.groups.targets(call.accountId, destination.extensionId);
    if (!group) return call.reject(404, 'Not A Paging Group');
    if (!mayPage(group.pagerExtensionIds, call.caller.extensionId)) return call.reject(403, 'Not Allowed To Page');
    if (group.receivers.length === 0) return call.reject(480, 'No Paging Receivers');
    if (group.receivers.length > MAX_PAGING_RECEIVERS) deps.log?.warn('paging group has more receivers than a page reaches; the first ones are paged', { group: destination.extensionId, receivers: group.receivers.length });
    const receivers = group.receivers.slice(0, MAX_PAGING_RECEIVERS);
    await call.answer();
    await call.play(GO_AHEAD_TONE);
    // A room per page: two pages of one group at once do not mix.
    const room = { accountId: call.accountId, roomId: `page:${call.id}` };
    const legs: Promise<BridgeOutcome | null>[] = [];
    await call.joinRoom(room, 'speaker', {
      onJoined: () => {
        for (const r of receivers) {
          const leg = call.dialOut({ kind: 'extension', accountId: call.accountId, extensionId: r.extensionId, extensionNumber: r.extensionNumber, direction: 'internal' }, room, 'listener', {
            deviceIds: [r.deviceId],
            autoAnswer: true,
            ringSeconds: PAGE_RING_SECONDS,
            fromName: `Page ${destination.extensionNumber}`,
          });
          // One receiver that cannot be reached does not stop the page.
          legs.push(
            leg.catch((err: unknown) => {
              if (!(err instanceof CallEndedError)) deps.log?.warn('page receiver not reached', { device: r.deviceId, error: err });
              return null;
            }),
          );
        }
      },
    });
    // The pager hung up (joinRoom resolves then): the legs stop with the call; wait for them to be released.
    await Promise.all(legs);
  };
}
