import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { presenceField, presenceKey } from '@carillon/contracts/presence';
import { CallPresenceTracker } from '../../src/presence/call-presence.ts';
import { dialogEventPackage, dialogInfo } from '../../src/registrar/park-dialog-events.ts';
import type { Logger } from '@carillon/config';

/**
 * A held call seen from outside (issue 15): the presence tracker counts, per extension, the calls its
 * user holds (CallEvents.onHold, wired by the call engine), and the dialog-event NOTIFY shows a held call
 * as confirmed with the local target's +sip.rendering="no" (RFC 4235 §4.1.6).
 */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ACCOUNT = '00000000-0000-4000-8000-0000000000a1';
const EXT = '00000000-0000-4000-8000-0000000000b2';
const log = { warn: () => undefined, info: () => undefined, error: () => undefined, debug: () => undefined, child: () => log } as unknown as Logger;
let redis: Redis;
const node = `presence-hold-test-${process.pid}`;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  await redis.del(presenceKey(node));
  redis.disconnect();
});

describe('CallPresenceTracker holds', () => {
  it('counts a hold only while the extension is on the call, undoes it on resume, on leaving and at the end, and writes it to Redis', async () => {
    const presence = new CallPresenceTracker(redis, node, log);
    const call = {};
    const other = {};
    // Not on the call yet: a hold does not count.
    presence.hold(call, ACCOUNT, EXT, true);
    expect(presence.activity(ACCOUNT, EXT)).toEqual({ ringing: 0, onCall: 0, held: 0 });
    presence.set(call, ACCOUNT, EXT, 'on_call');
    presence.set(other, ACCOUNT, EXT, 'on_call');
    presence.hold(call, ACCOUNT, EXT, true);
    presence.hold(call, ACCOUNT, EXT, true);
    expect(presence.activity(ACCOUNT, EXT)).toEqual({ ringing: 0, onCall: 2, held: 1 });
    await presence.flush();
    expect(JSON.parse((await redis.hget(presenceKey(node), presenceField(ACCOUNT, EXT)))!)).toEqual({ ringing: 0, onCall: 2, held: 1 });
    presence.hold(call, ACCOUNT, EXT, false);
    expect(presence.activity(ACCOUNT, EXT).held).toBe(0);
    presence.hold(call, ACCOUNT, EXT, true);
    // The extension leaves the held call (a transfer, a SL-01 pickup): its hold goes with it.
    presence.set(call, ACCOUNT, EXT, null);
    expect(presence.activity(ACCOUNT, EXT)).toEqual({ ringing: 0, onCall: 1, held: 0 });
    presence.hold(other, ACCOUNT, EXT, true);
    presence.clear(other);
    expect(presence.activity(ACCOUNT, EXT)).toEqual({ ringing: 0, onCall: 0, held: 0 });
    await presence.flush();
    expect(await redis.hget(presenceKey(node), presenceField(ACCOUNT, EXT))).toBeNull();
  });
});

describe('the dialog-info of a held call', () => {
  it('is confirmed with +sip.rendering="no" on the local target; a call talking shows no local target', () => {
    const held = dialogInfo('sip:102@carillon.test', 4, { id: 'ext-1', state: 'confirmed', held: true });
    expect(held).toMatch(/<state>confirmed<\/state>\s*<local>\s*<target uri="sip:102@carillon.test">\s*<param pname="\+sip.rendering" pvalue="no"\/>\s*<\/target>\s*<\/local>\s*<\/dialog>/);
    expect(dialogInfo('sip:102@carillon.test', 5, { id: 'ext-1', state: 'confirmed' })).not.toContain('<local>');
  });

  it("shows the user's lamp held only while it holds every call it is on", async () => {
    let activity = { ringing: 0, onCall: 2, held: 1 };
    const pkg = dialogEventPackage({ db: null as never, occupancy: { isOccupied: () => false }, activity: () => activity, domain: 'carillon.test' });
    const sub = { accountId: ACCOUNT, resource: { kind: 'user' as const, extensionId: EXT }, memo: { entity: 'sip:102@carillon.test', version: 0 } };
    const body = (pkg.body as (s: typeof sub) => Promise<string>).bind(pkg);
    expect(await body(sub)).not.toContain('+sip.rendering');
    activity = { ringing: 0, onCall: 1, held: 1 };
    expect(await body(sub)).toContain('<param pname="+sip.rendering" pvalue="no"/>');
  });
});
