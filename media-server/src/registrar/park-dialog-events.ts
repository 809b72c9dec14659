import type { Db } from '@carillon/db';
import { parkLocationMembers } from '@carillon/core';
import { mayUseParkLocation } from '@carillon/domain';
import { createResponse } from '../sip/message/index.ts';
import { EventNotifier, type EventNotifierDeps, type EventPackage } from './event-notifier.ts';

export const DIALOG_EVENT = 'dialog';
export const DIALOG_INFO_TYPE = 'application/dialog-info+xml';

/** Whether a park location holds a call now, and news when that changes (calls/park-lot.ts, wired by the edge). */
export interface ParkOccupancy {
  isOccupied(accountId: string, location: string): boolean;
}

/** What this node's calls do to a user's extension (presence/call-presence.ts). */
export type ExtensionActivity = (accountId: string, extensionId: string) => { ringing: number; onCall: number; held?: number };

/** What a busy-lamp key watches: a park location (by number), or a user's extension. */
export type WatchedResource = { kind: 'park'; location: string } | { kind: 'user'; extensionId: string };

/** The one dialog a lamp shows; `held`: its user holds it. */
export interface LampDialog {
  id: string;
  state: 'early' | 'confirmed';
  held?: boolean;
}

/** The entity a subscription's documents name, and their version (RFC 4235 §4.1: counts this subscription's NOTIFYs, from 0). */
type LampMemo = { entity: string; version: number };

/**
 * Busy lamps (PK-04, issue 15 point 4): the dialog event package (RFC 4235)
 * for a park location's number, so a member's desk phone lights the key while
 * a call is parked there, and for a user's extension (any phone of the
 * account: ringing shows `early`, a call up `confirmed`). Each NOTIFY carries
 * the full state: one dialog, or none when the location or the user is free.
 * Only members of a location may watch it. Subscribers learn of this node's
 * parked calls and calls (another node's are not shown yet).
 */
export function dialogEventPackage(deps: { db: Db; occupancy: ParkOccupancy; activity?: ExtensionActivity; domain: string }): EventPackage<WatchedResource, LampMemo> {
  /** The one dialog a lamp shows, if any: a parked call (confirmed), or a user's call, talking (confirmed) before ringing (early). */
  const dialogOf = (accountId: string, r: WatchedResource): LampDialog | null => {
    if (r.kind === 'park') return deps.occupancy.isOccupied(accountId, r.location) ? { id: `park-${r.location}`, state: 'confirmed' } : null;
    const a = deps.activity?.(accountId, r.extensionId);
    // Held: the user holds every call it is on (one it talks on keeps the lamp plainly busy).
    if (a && a.onCall > 0) return { id: `ext-${r.extensionId}`, state: 'confirmed', held: (a.held ?? 0) >= a.onCall };
    if (a && a.ringing > 0) return { id: `ext-${r.extensionId}`, state: 'early' };
    return null;
  };
  return {
    event: DIALOG_EVENT,
    contentType: DIALOG_INFO_TYPE,
    async resolve(req, device) {
      const location = decodeURIComponent(/^sips?:([^@;?]+)@/i.exec(req.uri)?.[1] ?? '');
      const ext = /^[0-9]{1,9}$/.test(location)
        ? await deps.db.selectFrom('extensions').select(['id', 'type']).where('account_id', '=', device.accountId).where('number', '=', location).where('type', 'in', ['park_location', 'user', 'limited']).executeTakeFirst()
        : undefined;
      // RFC 6665 §4.1.2: a resource we do not serve is 404 (users' lamps only where presence is wired).
      if (!ext || (ext.type !== 'park_location' && !deps.activity)) return createResponse(req, 404, { reason: 'Not A Park Location Or User' });
      if (ext.type === 'park_location' && !mayUseParkLocation(await parkLocationMembers(deps.db, device.accountId, ext.id), device.extensionId)) return createResponse(req, 403, { reason: 'Not A Park Location Member' });
      const resource: WatchedResource = ext.type === 'park_location' ? { kind: 'park', location } : { kind: 'user', extensionId: ext.id };
      return { resource, memo: { entity: `sip:${location}@${deps.domain}`, version: 0 } };
    },
    key: (accountId, r) => (r.kind === 'park' ? `${accountId} park ${r.location}` : `${accountId} user ${r.extensionId}`),
    // Every NOTIFY is the full state (RFC 4235 §4.1), sent on each change: the lamp may have gone off and on again meanwhile.
    body: async (sub) => dialogInfo(sub.memo.entity, sub.memo.version++, dialogOf(sub.accountId, sub.resource)),
  };
}

export type DialogEventNotifier = EventNotifier<WatchedResource, LampMemo>;

export function createDialogEventNotifier(deps: EventNotifierDeps & { db: Db; occupancy: ParkOccupancy; activity?: ExtensionActivity; domain: string }): DialogEventNotifier {
  return new EventNotifier(dialogEventPackage(deps), deps);
}

/**
 * A full dialog-info document (RFC 4235 §4): one `confirmed` dialog while a
 * call is parked, none when the location is free (§4.1: state "full" lists
 * every dialog of the entity). RFC 4235 has no "held" state: a held call is
 * `confirmed` with the local target's `+sip.rendering="no"` (§4.1.6, the
 * RFC 3840 feature parameter: the user's phone renders no media), which is
 * how desk phones' busy lamps tell a held call (slow blink) from a talking one.
 */
export function dialogInfo(entity: string, version: number, dialog: LampDialog | null): string {
  const head = `<?xml version="1.0"?>\n<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="${version}" state="full" entity="${entity}">\n`;
  const local = dialog?.held ? `    <local>\n      <target uri="${entity}">\n        <param pname="+sip.rendering" pvalue="no"/>\n      </target>\n    </local>\n` : '';
  const body = dialog ? `  <dialog id="${dialog.id}" direction="recipient">\n    <state>${dialog.state}</state>\n${local}  </dialog>\n` : '';
  return `${head}${body}</dialog-info>\n`;
}
