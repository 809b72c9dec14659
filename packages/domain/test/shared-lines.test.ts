import { describe, expect, it } from 'vitest';
import { DEFAULT_SHARED_LINE_SETTINGS, newSharedLineInput, readSharedLineSettings, sharedLineBlocks, sharedLineIsOpen, sharedLineSettings, SHARED_LINE_MAX_DEVICES } from '../src/index.ts';

/** Shared lines' rules (inventory 2 §12): the bound on devices, settings as stored, blocked callers, hours. */
describe('shared line rules', () => {
  it('takes 16 devices, not 17, each once (SL-01)', () => {
    const ids = (n: number) => Array.from({ length: n }, () => crypto.randomUUID());
    expect(newSharedLineInput.safeParse({ name: 'Desk', number: '600', deviceIds: ids(SHARED_LINE_MAX_DEVICES) }).success).toBe(true);
    expect(newSharedLineInput.safeParse({ name: 'Desk', number: '600', deviceIds: ids(SHARED_LINE_MAX_DEVICES + 1) }).success).toBe(false);
    const one = crypto.randomUUID();
    expect(newSharedLineInput.safeParse({ name: 'Desk', number: '600', deviceIds: [one, one] }).success).toBe(false);
  });

  it('takes messages by default (SL-09); a stored row missing a field reads it as its default; a broken one reads as the defaults', () => {
    expect(DEFAULT_SHARED_LINE_SETTINGS.takeMessages).toBe(true);
    expect(sharedLineSettings.safeParse(DEFAULT_SHARED_LINE_SETTINGS).success).toBe(true);
    const { takeMessages: _dropped, ...older } = { ...DEFAULT_SHARED_LINE_SETTINGS, ringSeconds: 30 };
    expect(readSharedLineSettings(older)).toEqual({ ...DEFAULT_SHARED_LINE_SETTINGS, ringSeconds: 30 });
    expect(readSharedLineSettings({ ringSeconds: 7 })).toEqual(DEFAULT_SHARED_LINE_SETTINGS);
    expect(sharedLineSettings.safeParse({ ...DEFAULT_SHARED_LINE_SETTINGS, outboundCallerId: { mode: 'group', number: '555' } }).success).toBe(false);
  });

  it('blocks listed numbers by their digits, or everyone; never a withheld number by list (SL-05)', () => {
    const numbers = { mode: 'numbers' as const, numbers: ['+14155550199'], message: 'goodbye' as const };
    expect(sharedLineBlocks(numbers, '14155550199')).toBe(true);
    expect(sharedLineBlocks(numbers, '+14155550100')).toBe(false);
    expect(sharedLineBlocks(numbers, null)).toBe(false);
    expect(sharedLineBlocks({ ...numbers, mode: 'all' }, null)).toBe(true);
    expect(sharedLineBlocks({ ...numbers, mode: 'none' }, '+14155550199')).toBe(false);
    expect(sharedLineSettings.safeParse({ ...DEFAULT_SHARED_LINE_SETTINGS, blocked: { ...numbers, numbers: ['+14155550199', '+14155550199'] } }).success).toBe(false);
  });

  it('is open in its hours on the account’s wall clock (SL-07)', () => {
    const hours = { mode: 'custom' as const, days: { mon: [{ from: '09:00', to: '17:00' }], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] } };
    expect(sharedLineIsOpen({ hours }, 'Europe/Paris', new Date('2026-12-07T10:00:00Z'))).toBe(true);
    expect(sharedLineIsOpen({ hours }, 'Europe/Paris', new Date('2026-12-07T17:30:00Z'))).toBe(false);
    expect(sharedLineIsOpen({ hours: { mode: '24h' } }, 'UTC', new Date('2026-12-08T03:00:00Z'))).toBe(true);
  });
});
