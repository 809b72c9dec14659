import { describe, expect, it } from 'vitest';
import { DEFAULT_IVR_SETTINGS, foldName, ivrSettings, keypadDigits, searchDirectory, type DirectoryEntry } from '@carillon/domain';

const people: DirectoryEntry[] = [
  { extension: '101', firstName: 'John', lastName: 'Smith' },
  { extension: '102', firstName: 'Hélène', lastName: 'Élan' },
  { extension: '103', firstName: 'Anne', lastName: 'Johnson' },
  { extension: '104', firstName: 'Joan', lastName: 'Baker' },
  { extension: '105', firstName: '', lastName: 'Jones' },
];

describe('dial-by-name directory', () => {
  it('maps every letter to its ITU-T E.161 key', () => {
    expect(keypadDigits('abcdefghijklmnopqrstuvwxyz')).toBe('22233344455566677778889999');
    expect(keypadDigits('JOHN')).toBe('5646');
  });

  it('folds accents, ligatures, case and punctuation before mapping', () => {
    expect(foldName("Éloïse O'Brien-Çaño")).toBe('eloiseobriencano');
    expect(keypadDigits('Hélène')).toBe(keypadDigits('Helene'));
    expect(keypadDigits('Strauß')).toBe('7872877');
    expect(keypadDigits('Œuvre')).toBe('638873');
  });

  it('matches a prefix of the first name when the admin chose the first name', () => {
    const found = searchDirectory(people, { searchBy: 'first_name', extensions: null }, '56');
    // Joan and John (both 56…), sorted by first name; Jones (no first name) and Johnson (Anne) are not found by first name.
    expect(found).toEqual({ type: 'matches', entries: [people[3], people[0]] });
    expect(searchDirectory(people, { searchBy: 'first_name', extensions: null }, '5646')).toEqual({ type: 'matches', entries: [people[0]] });
    // An accented first name is found by its plain letters: H-E-L.
    expect(searchDirectory(people, { searchBy: 'first_name', extensions: null }, '435')).toEqual({ type: 'matches', entries: [people[1]] });
  });

  it('matches a prefix of the last name when the admin chose the last name', () => {
    expect(searchDirectory(people, { searchBy: 'last_name', extensions: null }, '56')).toEqual({ type: 'matches', entries: [people[2], people[4]] });
    // John Smith is not found by his first name under a last-name search.
    expect(searchDirectory(people, { searchBy: 'last_name', extensions: null }, '5646')).toEqual({ type: 'matches', entries: [people[2]] });
    expect(searchDirectory(people, { searchBy: 'last_name', extensions: null }, '352')).toEqual({ type: 'matches', entries: [people[1]] });
  });

  it('searches only the included extensions', () => {
    expect(searchDirectory(people, { searchBy: 'last_name', extensions: ['105', '101'] }, '56')).toEqual({ type: 'matches', entries: [people[4]] });
    expect(searchDirectory(people, { searchBy: 'last_name', extensions: [] }, '56')).toEqual({ type: 'none' });
  });

  it('offers at most 8 matches and asks for more letters beyond', () => {
    const many = Array.from({ length: 9 }, (_, i): DirectoryEntry => ({ extension: String(200 + i), firstName: 'X', lastName: `P${'abcdefghi'[i]}` }));
    expect(searchDirectory(many, { searchBy: 'last_name', extensions: null }, '7')).toEqual({ type: 'too_many', count: 9 });
    const eight = searchDirectory(many.slice(1), { searchBy: 'last_name', extensions: null }, '7');
    expect(eight.type === 'matches' && eight.entries.map((e) => e.extension)).toEqual(['201', '202', '203', '204', '205', '206', '207', '208']);
  });

  it('finds nobody when no name starts with the letters, or the digits spell none', () => {
    expect(searchDirectory(people, { searchBy: 'last_name', extensions: null }, '9999')).toEqual({ type: 'none' });
    expect(searchDirectory(people, { searchBy: 'last_name', extensions: null }, '')).toEqual({ type: 'none' });
    expect(searchDirectory(people, { searchBy: 'last_name', extensions: null }, '51')).toEqual({ type: 'none' });
  });

  it('reads settings saved before the directory existed, and refuses an unknown search field', () => {
    expect(ivrSettings.parse(DEFAULT_IVR_SETTINGS).directory).toBeUndefined();
    expect(ivrSettings.parse({ ...DEFAULT_IVR_SETTINGS, directory: { searchBy: 'first_name', extensions: ['101'] } }).directory).toEqual({ searchBy: 'first_name', extensions: ['101'] });
    expect(ivrSettings.safeParse({ ...DEFAULT_IVR_SETTINGS, directory: { searchBy: 'nickname', extensions: null } }).success).toBe(false);
  });
});
