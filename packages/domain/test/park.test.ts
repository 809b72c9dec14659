import { describe, expect, it } from 'vitest';
import { canAddParkLocation, MAX_PARK_LOCATIONS, mayPickUp, mayUseParkLocation, parkLocationInput, parkLocationUpdate, pickupGroupInput, queueMembersLeftOut } from '@carillon/domain';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const C = '00000000-0000-4000-8000-00000000000c';

describe('park locations (PK-01…PK-03)', () => {
  it('allows 100 locations per account, not a 101st', () => {
    expect(MAX_PARK_LOCATIONS).toBe(100);
    expect(canAddParkLocation(0)).toBe(true);
    expect(canAddParkLocation(99)).toBe(true);
    expect(canAddParkLocation(100)).toBe(false);
  });

  it("takes a call queue's user only with all the queue's members (PK-03)", () => {
    const queues = [
      { queue: '600', members: [A, B] },
      { queue: '601', members: [C] },
    ];
    expect(queueMembersLeftOut([A], queues)).toEqual([{ queue: '600', missing: [B] }]);
    expect(queueMembersLeftOut([A, B], queues)).toEqual([]);
    expect(queueMembersLeftOut([C], queues)).toEqual([]);
    expect(queueMembersLeftOut([], queues)).toEqual([]);
  });

  it('edits leave out what they do not name, and refuse unknown fields', () => {
    expect(parkLocationUpdate.parse({ enabled: false })).toEqual({ enabled: false });
    expect(parkLocationUpdate.safeParse({ colour: 'red' }).success).toBe(false);
    expect(parkLocationInput.parse({ name: 'Lobby', number: '801' })).toEqual({ name: 'Lobby', number: '801', enabled: true, siteId: null, memberExtensionIds: [] });
  });

  it('lets only members park and retrieve; an outside caller never', () => {
    expect(mayUseParkLocation([A, B], A)).toBe(true);
    expect(mayUseParkLocation(new Set([A, B]), B)).toBe(true);
    expect(mayUseParkLocation([A, B], C)).toBe(false);
    expect(mayUseParkLocation([A, B], null)).toBe(false);
    expect(mayUseParkLocation([], A)).toBe(false);
  });

  it('validates the name, the number and the members', () => {
    expect(parkLocationInput.parse({ name: ' Front desk ', number: '801' })).toEqual({ name: 'Front desk', number: '801', enabled: true, siteId: null, memberExtensionIds: [] });
    expect(parkLocationInput.safeParse({ name: '', number: '801' }).success).toBe(false);
    expect(parkLocationInput.safeParse({ name: 'x', number: '8a1' }).success).toBe(false);
    expect(parkLocationInput.safeParse({ name: 'x', number: '801', memberExtensionIds: [A, A] }).success).toBe(false);
    expect(parkLocationInput.safeParse({ name: 'x'.repeat(61), number: '801' }).success).toBe(false);
  });
});

describe('directed call pickup (PU-01, PU-02)', () => {
  const groups = [{ members: [A, B] }, { members: [C] }];

  it('lets a member pick up a call ringing on another member of one of its groups', () => {
    expect(mayPickUp(groups, A, B)).toBe(true);
    expect(mayPickUp(groups, B, A)).toBe(true);
  });

  it('refuses a non-member, a member of another group, and picking up one\'s own extension', () => {
    expect(mayPickUp(groups, C, A)).toBe(false);
    expect(mayPickUp(groups, null, A)).toBe(false);
    expect(mayPickUp(groups, A, A)).toBe(false);
    expect(mayPickUp([], A, B)).toBe(false);
  });

  it('bounds a group\'s members', () => {
    const many = Array.from({ length: 501 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    expect(pickupGroupInput.safeParse({ name: 'Emerald', memberExtensionIds: many }).success).toBe(false);
    expect(pickupGroupInput.parse({ name: 'Emerald', memberExtensionIds: [A] }).memberExtensionIds).toEqual([A]);
  });
});
