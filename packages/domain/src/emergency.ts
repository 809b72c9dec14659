import type { CountryCode } from './regional.ts';

/**
 * Emergency numbers by country. They are always allowed, whatever the user's
 * outbound calling permission, and flagged on the call (seed 002 "Emergency
 * only" is the most restrictive level, not a block).
 */
export const EMERGENCY_NUMBERS: Record<CountryCode, readonly string[]> = {
  US: ['911'],
  CA: ['911'],
  GB: ['999', '112'],
  FR: ['112', '15', '17', '18', '114'],
  BE: ['112', '100', '101'],
  CH: ['112', '117', '118', '144'],
  DE: ['112', '110'],
  ES: ['112', '091', '092'],
  IT: ['112', '113', '115', '118'],
  IE: ['112', '999'],
  AU: ['000', '112'],
};

export function isEmergencyNumber(dialed: string, country: CountryCode): boolean {
  return EMERGENCY_NUMBERS[country]?.includes(dialed) ?? false;
}
