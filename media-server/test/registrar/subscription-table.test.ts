import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SubscriptionTable } from '../../src/registrar/subscription-table.ts';

describe('SubscriptionTable', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('removes a subscription when it expires and says so once', () => {
    const expired: [string, string][] = [];
    const table = new SubscriptionTable<string>({ perDevice: 4, total: 10 }, (id, value) => expired.push([id, value]));
    expect(table.add('d1', 'phone-a', 'sub 1', 60)).toBeNull();
    vi.advanceTimersByTime(59_999);
    expect(table.get('d1')).toBe('sub 1');
    vi.advanceTimersByTime(1);
    expect(table.get('d1')).toBeUndefined();
    expect(table.size).toBe(0);
    vi.advanceTimersByTime(600_000);
    expect(expired).toEqual([['d1', 'sub 1']]);
  });

  it('a refresh moves the expiry from now', () => {
    const expired: string[] = [];
    const table = new SubscriptionTable<string>({ perDevice: 4, total: 10 }, (id) => expired.push(id));
    table.add('d1', 'phone-a', 'sub 1', 60);
    vi.advanceTimersByTime(50_000);
    expect(table.refresh('d1', 60)).toBe(true);
    vi.advanceTimersByTime(50_000);
    expect(table.get('d1')).toBe('sub 1');
    vi.advanceTimersByTime(10_000);
    expect(expired).toEqual(['d1']);
    expect(table.refresh('d1', 60)).toBe(false);
  });

  it('a removed subscription never expires', () => {
    const expired: string[] = [];
    const table = new SubscriptionTable<string>({ perDevice: 4, total: 10 }, (id) => expired.push(id));
    table.add('d1', 'phone-a', 'sub 1', 60);
    expect(table.remove('d1')).toBe('sub 1');
    expect(table.remove('d1')).toBeUndefined();
    vi.advanceTimersByTime(120_000);
    expect(expired).toEqual([]);
  });

  it('refuses past the limit per device, and counts a device again once one of its subscriptions goes', () => {
    const table = new SubscriptionTable<string>({ perDevice: 2, total: 10 }, () => undefined);
    expect(table.add('d1', 'phone-a', 'a1', 60)).toBeNull();
    expect(table.add('d2', 'phone-a', 'a2', 60)).toBeNull();
    expect(table.add('d3', 'phone-a', 'a3', 60)).toBe('device_full');
    // Another device is not held back by this one.
    expect(table.add('d4', 'phone-b', 'b1', 60)).toBeNull();
    table.remove('d1');
    expect(table.add('d3', 'phone-a', 'a3', 60)).toBeNull();
    expect(table.size).toBe(3);
  });

  it('refuses past the limit overall, and takes new ones as old ones expire', () => {
    const table = new SubscriptionTable<string>({ perDevice: 4, total: 3 }, () => undefined);
    expect(table.add('d1', 'phone-a', 'a1', 30)).toBeNull();
    expect(table.add('d2', 'phone-b', 'b1', 60)).toBeNull();
    expect(table.add('d3', 'phone-c', 'c1', 60)).toBeNull();
    expect(table.add('d4', 'phone-d', 'd1', 60)).toBe('table_full');
    expect(table.size).toBe(3);
    vi.advanceTimersByTime(30_000);
    expect(table.add('d4', 'phone-d', 'd1', 60)).toBeNull();
  });

  it('clear drops everything without telling anyone', () => {
    const expired: string[] = [];
    const table = new SubscriptionTable<string>({ perDevice: 4, total: 10 }, (id) => expired.push(id));
    table.add('d1', 'phone-a', 'a1', 30);
    table.add('d2', 'phone-b', 'b1', 30);
    table.clear();
    expect(table.size).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(expired).toEqual([]);
  });
});
