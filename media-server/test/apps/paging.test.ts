import { describe, expect, it } from 'vitest';
import { MAX_PAGING_RECEIVERS } from '@carillon/domain';
import { GO_AHEAD_TONE, PAGE_RING_SECONDS, pagingApp } from '../../src/apps/paging/paging.ts';
import type { PagingGroups, PagingGroupTargets } from '../../src/apps/paging/paging-groups.ts';
import type { JoinRoomOptions, RoomExit, RoomRef, RoomRole } from '../../src/apps/call-handle.ts';
import { FakeCallHandle } from './fake-call-handle.ts';

/**
 * The paging application at the CallHandle boundary (the media, the auto-answer headers and the
 * BYEs end to end are in test/sipp/paging-calls.test.ts): who may page, the refusals, the room the
 * pager speaks in, one listener leg per receiving device, the bound on receivers, and the end.
 */
const PAGER = '00000000-0000-4000-8000-000000000101';
const GROUP = '00000000-0000-4000-8000-000000000700';
const DEST = { kind: 'page' as const, accountId: '00000000-0000-4000-8000-0000000000aa', extensionId: GROUP, extensionNumber: '700' };

const receiver = (i: number) => ({ deviceId: `dev-${i}`, extensionId: `ext-${i}`, extensionNumber: String(200 + i) });
const groups = (targets: PagingGroupTargets | null): PagingGroups & { asked: string[] } => {
  const asked: string[] = [];
  return {
    asked,
    targets: (accountId, id) => {
      asked.push(`${accountId}:${id}`);
      return Promise.resolve(targets);
    },
  };
};

/** A pager whose joinRoom joins, then stays until the call ends (the pager hangs up from the test with `hangup()`). */
class PagerHandle extends FakeCallHandle {
  joined: { room: RoomRef; role: RoomRole }[] = [];
  override joinRoom(room: RoomRef, role: RoomRole, options: JoinRoomOptions = {}): Promise<RoomExit> {
    this.log.push(['joinRoom', { room: room.roomId, role }]);
    this.joined.push({ room, role });
    options.onJoined?.();
    return new Promise((resolve) => {
      if (this.signal.aborted) return resolve({ reason: 'hangup' });
      this.signal.addEventListener('abort', () => resolve({ reason: 'hangup' }), { once: true });
    });
  }
}

const dialOuts = (h: FakeCallHandle) => h.log.filter((l): l is [string, Record<string, unknown>] => Array.isArray(l) && l[0] === 'dialOut').map(([, a]) => a);

/** Runs the app until it has paged, then hangs the pager up; resolves when the app returns. */
async function pageThenHangUp(h: PagerHandle, g: PagingGroups): Promise<void> {
  const run = pagingApp({ groups: g })(h, DEST);
  await expect.poll(() => h.joined.length, { timeout: 2000, interval: 5 }).toBe(1);
  await h.hangup();
  await run;
}

describe('the paging application', () => {
  it('answers an allowed pager, beeps, puts it in a room of its own as the speaker, and dials each receiving device as a listener with the auto-answer hint', async () => {
    const h = new PagerHandle({ callerExtensionId: PAGER, dialed: '*84700' });
    h.dialOutOutcome = { outcome: 'answered', endedBy: 'caller' };
    const g = groups({ pagerExtensionIds: [PAGER], receivers: [receiver(1), receiver(2)] });
    await pageThenHangUp(h, g);
    expect(g.asked).toEqual([`${h.accountId}:${GROUP}`]);
    expect(h.log.slice(0, 3)).toEqual(['answer', ['play', GO_AHEAD_TONE], ['joinRoom', { room: `page:${h.id}`, role: 'speaker' }]]);
    expect(dialOuts(h)).toEqual([1, 2].map((i) => ({ extension: String(200 + i), room: `page:${h.id}`, role: 'listener', deviceIds: [`dev-${i}`], autoAnswer: true, ringSeconds: PAGE_RING_SECONDS, fromName: 'Page 700' })));
    expect(h.log.at(-1)).toBe('hangup');
  });

  it('refuses a user who is not allowed to page the group (403), an outside caller too, and rings nobody', async () => {
    for (const callerExtensionId of ['00000000-0000-4000-8000-000000000102', undefined]) {
      const h = new PagerHandle(callerExtensionId ? { callerExtensionId } : {});
      h.dialOutOutcome = { outcome: 'answered', endedBy: 'caller' };
      await pagingApp({ groups: groups({ pagerExtensionIds: [PAGER], receivers: [receiver(1)] }) })(h, DEST);
      expect(h.log).toEqual([['reject', { status: 403, reason: 'Not Allowed To Page' }]]);
    }
  });

  it('refuses a group with no receiving device (480) and a group deleted since it was routed (404)', async () => {
    const empty = new PagerHandle({ callerExtensionId: PAGER });
    await pagingApp({ groups: groups({ pagerExtensionIds: [PAGER], receivers: [] }) })(empty, DEST);
    expect(empty.log).toEqual([['reject', { status: 480, reason: 'No Paging Receivers' }]]);
    const gone = new PagerHandle({ callerExtensionId: PAGER });
    await pagingApp({ groups: groups(null) })(gone, DEST);
    expect(gone.log).toEqual([['reject', { status: 404, reason: 'Not A Paging Group' }]]);
  });

  it(`pages at most ${MAX_PAGING_RECEIVERS} devices`, async () => {
    const h = new PagerHandle({ callerExtensionId: PAGER });
    h.dialOutOutcome = { outcome: 'answered', endedBy: 'caller' };
    await pageThenHangUp(h, groups({ pagerExtensionIds: [PAGER], receivers: Array.from({ length: MAX_PAGING_RECEIVERS + 5 }, (_, i) => receiver(i)) }));
    expect(dialOuts(h)).toHaveLength(MAX_PAGING_RECEIVERS);
  });

  it('goes on when a receiver is unavailable or its leg fails; the page lasts until the pager hangs up', async () => {
    const h = new PagerHandle({ callerExtensionId: PAGER });
    h.dialOutOutcome = { outcome: 'answered', endedBy: 'caller' };
    h.dialOutByDevice.set('dev-1', { outcome: 'unavailable', status: 480 });
    const failing = new Map([['dev-2', true]]);
    const dialOut = h.dialOut.bind(h);
    // A leg that throws (a media failure) is one receiver lost, not the page.
    h.dialOut = (target, room, role, options) => (failing.get(options?.deviceIds?.[0] ?? '') ? Promise.reject(new Error('no ports')) : dialOut(target, room, role, options));
    let settled = false;
    const run = pagingApp({ groups: groups({ pagerExtensionIds: [PAGER], receivers: [receiver(1), receiver(2), receiver(3)] }) })(h, DEST).then(() => (settled = true));
    await expect.poll(() => dialOuts(h).length, { timeout: 2000, interval: 5 }).toBe(2);
    // Receiver 3 is in the room: the page lasts until the pager hangs up.
    await Promise.resolve();
    expect(settled).toBe(false);
    await h.hangup();
    await run;
    expect(dialOuts(h).map((d) => d.deviceIds)).toEqual([['dev-1'], ['dev-3']]);
  });
});
