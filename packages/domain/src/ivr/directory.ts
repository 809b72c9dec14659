import type { DirectorySettings } from './ivr-config.ts';

/**
 * The dial-by-name directory (issue 14, deliverable 2): the caller spells the start of a name on the
 * keypad and hears the matching people. Pure: the call side gives it the account's users (name and
 * extension) and the digits collected; the same search can serve a browser simulator.
 */

/** The most matches offered at once ("press 1 for …" up to "press 8 for …"); past it the caller is asked for more letters. */
export const MAX_DIRECTORY_CHOICES = 8;

export interface DirectoryEntry {
  extension: string;
  firstName: string;
  lastName: string;
}

/** ITU-T E.161 §3 (figure 1): the letters on the keys 2 to 9. */
const E161_KEYS: Readonly<Record<string, string>> = { '2': 'abc', '3': 'def', '4': 'ghi', '5': 'jkl', '6': 'mno', '7': 'pqrs', '8': 'tuv', '9': 'wxyz' };
const KEY_OF_LETTER: ReadonlyMap<string, string> = new Map(Object.entries(E161_KEYS).flatMap(([key, letters]) => [...letters].map((l) => [l, key] as const)));

/** A name folded to plain lowercase letters: accents dropped (é → e), ligatures expanded (æ → ae, ß → ss), spaces and punctuation removed. */
export function foldName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/æ/g, 'ae')
    .replace(/œ/g, 'oe')
    .replace(/ß/g, 'ss')
    .replace(/ø/g, 'o')
    .replace(/[^a-z]/g, '');
}

/** The keys that spell a name on an E.161 keypad ("Jöhn" → "5646"). */
export function keypadDigits(name: string): string {
  return [...foldName(name)].map((l) => KEY_OF_LETTER.get(l) ?? '').join('');
}

export type DirectorySearch =
  | { type: 'matches'; entries: DirectoryEntry[] }
  /** More matches than can be offered: the caller keys more letters. */
  | { type: 'too_many'; count: number }
  | { type: 'none' };


/**
 * The entries whose searched name starts with the letters the digits spell, among the included
 * extensions, sorted by that name (then the other name, then extension, so the order is stable).
 * Entries without the searched name cannot be found by it and are left out. Digits other than 2–9
 * spell no letter: such a search matches nobody.
 */
export function searchDirectory(entries: readonly DirectoryEntry[], settings: DirectorySettings, digits: string): DirectorySearch {
  if (!/^[2-9]+$/.test(digits)) return { type: 'none' };
  const included = settings.extensions ? new Set(settings.extensions) : null;
  const searched = (e: DirectoryEntry) => (settings.searchBy === 'first_name' ? e.firstName : e.lastName);
  const other = (e: DirectoryEntry) => (settings.searchBy === 'first_name' ? e.lastName : e.firstName);
  const found = entries
    .filter((e) => (!included || included.has(e.extension)) && foldName(searched(e)) !== '')
    .filter((e) => keypadDigits(searched(e)).startsWith(digits))
    .sort((a, b) => foldName(searched(a)).localeCompare(foldName(searched(b))) || foldName(other(a)).localeCompare(foldName(other(b))) || a.extension.localeCompare(b.extension));
  if (!found.length) return { type: 'none' };
  if (found.length > MAX_DIRECTORY_CHOICES) return { type: 'too_many', count: found.length };
  return { type: 'matches', entries: found };
}

/** The name a match is announced by. */
export const directoryName = (e: DirectoryEntry): string => `${e.firstName} ${e.lastName}`.trim();
