import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '@carillon/config';
import { callOwnerKey } from '@carillon/contracts/call-control';
import { CallRegistry, type RegisteredAppCall, type RegisteredBridgedCall, type RegisteredOriginatedCall } from '../../src/calls/call-registry.ts';
import { RedisCallOwnership } from '../../src/control/call-ownership.ts';
import { redisClient } from '../../../tests/support/env.ts';

/**
 * The registry of this node's live calls, with the owner records on the real Redis. The calls are
 * small stand-ins at the registry's boundary: it reads only their Call-IDs and which side holds a dialog.
 */
const redis = redisClient();
const log = createLogger('call-registry-test', 'warn');
afterAll(() => redis.disconnect());

const ownerOf = async (callId: string) => {
  const value = await redis.get(callOwnerKey(callId));
  return value ? (JSON.parse(value) as { nodeId: string }).nodeId : null;
};

/** A bridged call: the caller's dialog (side a) and, once a callee answered, a fork's dialog (side b). */
function bridgedCall(accountId = randomUUID()) {
  const aCallId = `a-${randomUUID()}`;
  const dialogs: { callId: string; tags: [string, string]; side: 'a' | 'b' }[] = [{ callId: aCallId, tags: ['caller-tag', 'our-a-tag'], side: 'a' }];
  const call = {
    aCallId,
    accountId,
    forkCallIds: [] as string[],
    dialogs,
    sideWithDialog(callId: string, tag1: string, tag2: string) {
      const d = dialogs.find((x) => x.callId === callId && ((x.tags[0] === tag1 && x.tags[1] === tag2) || (x.tags[0] === tag2 && x.tags[1] === tag1)));
      return d?.side ?? null;
    },
  } satisfies RegisteredBridgedCall & { dialogs: unknown };
  return call;
}

const appCall = (accountId = randomUUID()) => ({ sipCallId: `app-${randomUUID()}`, accountId, forkCallIds: [] as string[] }) satisfies RegisteredAppCall;
const originatedCall = () => ({ forkCallIds: [] as string[] }) satisfies RegisteredOriginatedCall;

type Bridged = ReturnType<typeof bridgedCall>;
type App = ReturnType<typeof appCall>;
type Originated = ReturnType<typeof originatedCall>;

describe('CallRegistry', () => {
  it('registers a bridged call, finds it by any of its Call-IDs and by dialog, and forgets it at its end', async () => {
    const nodeId = `node-${randomUUID()}`;
    const registry = new CallRegistry<Bridged, App, Originated>(new RedisCallOwnership(redis, nodeId, log));
    const call = bridgedCall();
    registry.addBridged(call);
    expect(registry.count).toBe(1);
    expect(registry.bridged(call.aCallId)).toBe(call);
    expect(registry.byCallerCallId(call.aCallId)).toBe(call);
    expect(registry.callerCallIdInUse(call.aCallId)).toBe(true);
    await expect.poll(() => ownerOf(call.aCallId)).toBe(nodeId);

    // A callee's fork answers: its Call-ID reaches the call, and its dialog is found with the tags in either order.
    const forkCallId = `b-${randomUUID()}`;
    call.forkCallIds.push(forkCallId);
    call.dialogs.push({ callId: forkCallId, tags: ['our-b-tag', 'callee-tag'], side: 'b' });
    registry.addBridgedDialog(forkCallId, call);
    expect(registry.bridgedByCallId(forkCallId)).toBe(call);
    // A fork's Call-ID is not a caller's: the control channel and a CANCEL do not find the call by it.
    expect(registry.bridged(forkCallId)).toBeNull();
    expect(registry.findDialog(forkCallId, 'callee-tag', 'our-b-tag')).toEqual({ call, side: 'b' });
    expect(registry.findDialog(call.aCallId, 'caller-tag', 'our-a-tag')).toEqual({ call, side: 'a' });
    // A wrong tag is not the dialog (RFC 3891 §3: all three must match).
    expect(registry.findDialog(forkCallId, 'callee-tag', 'other')).toBeNull();
    expect(registry.findDialog(`unknown-${randomUUID()}`, 'callee-tag', 'our-b-tag')).toBeNull();

    registry.forgetBridged(call);
    expect(registry.count).toBe(0);
    expect(registry.bridgedByCallId(call.aCallId)).toBeNull();
    expect(registry.bridgedByCallId(forkCallId)).toBeNull();
    expect(registry.findDialog(forkCallId, 'callee-tag', 'our-b-tag')).toBeNull();
    expect(registry.callerCallIdInUse(call.aCallId)).toBe(false);
    await expect.poll(() => ownerOf(call.aCallId)).toBeNull();
  });

  it('an application call and its forks, and an originated call and its legs, each found and forgotten', async () => {
    const nodeId = `node-${randomUUID()}`;
    const registry = new CallRegistry<Bridged, App, Originated>(new RedisCallOwnership(redis, nodeId, log));
    const app = appCall();
    const originated = originatedCall();
    registry.addApp(app);
    registry.addOriginated(originated);
    const fork = `fork-${randomUUID()}`;
    const leg = `leg-${randomUUID()}`;
    app.forkCallIds.push(fork);
    originated.forkCallIds.push(leg);
    registry.addAppDialog(fork, app);
    registry.addAppDialog(leg, originated);
    expect(registry.count).toBe(2);
    expect(registry.app(app.sipCallId)).toBe(app);
    expect(registry.appByCallId(app.sipCallId)).toBe(app);
    expect(registry.appByCallId(fork)).toBe(app);
    expect(registry.appDialog(fork)).toBe(app);
    expect(registry.appDialog(leg)).toBe(originated);
    expect(registry.byCallerCallId(app.sipCallId)).toBe(app);
    expect(registry.appCalls()).toEqual([app]);
    expect(registry.originated()).toEqual([originated]);
    await expect.poll(() => ownerOf(app.sipCallId)).toBe(nodeId);

    registry.forgetApp(app);
    expect(registry.appByCallId(app.sipCallId)).toBeNull();
    expect(registry.appDialog(fork)).toBeNull();
    await expect.poll(() => ownerOf(app.sipCallId)).toBeNull();
    expect(registry.count).toBe(1);
    registry.forgetOriginated(originated);
    expect(registry.appDialog(leg)).toBeNull();
    expect(registry.count).toBe(0);
  });

  it('a Call-ID being routed is in use (a second INVITE with it is a loop) and counts toward the load, not the calls', () => {
    const registry = new CallRegistry<Bridged, App, Originated>();
    const callId = `routing-${randomUUID()}`;
    registry.routingStarted(callId);
    expect(registry.callerCallIdInUse(callId)).toBe(true);
    expect(registry.count).toBe(0);
    expect(registry.load).toBe(1);
    registry.routingDone(callId);
    expect(registry.callerCallIdInUse(callId)).toBe(false);
    expect(registry.load).toBe(0);
  });

  it('forgetting a call that is no longer the one registered under its Call-ID leaves the newer one and its owner record', async () => {
    const nodeId = `node-${randomUUID()}`;
    const registry = new CallRegistry<Bridged, App, Originated>(new RedisCallOwnership(redis, nodeId, log));
    const first = appCall();
    const second = { ...appCall(first.accountId), sipCallId: first.sipCallId };
    registry.addApp(first);
    registry.addApp(second);
    registry.forgetApp(first);
    expect(registry.app(first.sipCallId)).toBe(second);
    // One round trip after the claims: had the stale forget released the record, it would be gone.
    await redis.ping();
    expect(await ownerOf(first.sipCallId)).toBe(nodeId);
    registry.forgetApp(second);
    await expect.poll(() => ownerOf(first.sipCallId)).toBeNull();
  });
});
