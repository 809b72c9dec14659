import { describe, expect, it } from 'vitest';
import { checkPassword, checkPin, checkSecurityAnswer, failedRules, hasRun, toE164 } from '@carillon/domain';

describe('password rules (seed 001 "Créer votre mot de passe")', () => {
  const info = { firstName: 'Marie', lastName: 'Curie', email: 'marie.curie@acme.example', extension: '101', phoneNumbers: ['+14159706842'], companyName: 'Acme Labs' };

  it('accepts a password that meets every rule', () => {
    expect(failedRules(checkPassword('Tulip7Harbor', info))).toEqual([]);
    expect(failedRules(checkPassword('river9$stone', info))).toEqual([]);
  });

  it.each([
    ['Ab1!', ['length']],
    ['Xk9' + 'mzprtwq'.repeat(5), ['length']],
    ['12975318', ['letter', 'upperOrSpecial']],
    ['Tulipharbor', ['digit']],
    ['tulip7harbor', ['upperOrSpecial']],
    ['Tulip7Haaarbor', ['noRuns']],
    ['Tulip7Habcor', ['noRuns']],
    ['Tulip7H321or', ['noRuns']],
    ['Marie7Tulip', ['noAccountInfo']],
    ['Tulip!9706842', ['noAccountInfo']],
    ['Acme!Tulip7', ['noAccountInfo']],
  ])('%s breaks %j', (pw, rules) => {
    expect(failedRules(checkPassword(pw, info))).toEqual(rules);
  });

  it('treats an empty password as failing every rule', () => {
    expect(failedRules(checkPassword('', info)).length).toBe(6);
  });
});

describe('PIN rules (seed 001 "Définir votre code PIN")', () => {
  it.each([
    ['482915', []],
    ['9305716284', []],
    ['48291', ['length']],
    ['48291573046', ['length']],
    ['111111', ['noRuns']],
    ['123456', ['noRuns']],
    ['987654', ['noRuns']],
    ['48a915', ['digitsOnly']],
  ])('%s → %j', (pin, rules) => {
    expect(failedRules(checkPin(pin))).toEqual(rules);
  });
});

describe('security answer', () => {
  it('needs at least 4 letters', () => {
    expect(failedRules(checkSecurityAnswer('Rex'))).toEqual(['minLetters']);
    expect(failedRules(checkSecurityAnswer('R 2 x 4 !'))).toEqual(['minLetters']);
    expect(failedRules(checkSecurityAnswer('Médor'))).toEqual([]);
  });
});

describe('runs and numbers', () => {
  it('finds runs of three', () => {
    expect(hasRun('xaaay')).toBe(true);
    expect(hasRun('xyz')).toBe(true);
    expect(hasRun('zyx')).toBe(true);
    expect(hasRun('xy!z')).toBe(false);
    expect(hasRun('aab')).toBe(false);
  });
  it('normalises numbers to E.164 by country', () => {
    expect(toE164('(415) 555-0123', 'US')).toBe('+14155550123');
    expect(toE164('1 415 555 0123', 'US')).toBe('+14155550123');
    expect(toE164('01 42 68 53 00', 'FR')).toBe('+33142685300');
    expect(toE164('+44 20 7946 0958', 'FR')).toBe('+442079460958');
    expect(toE164('0033142685300', 'US')).toBe('+33142685300');
    expect(toE164('12', 'US')).toBeNull();
  });
});
