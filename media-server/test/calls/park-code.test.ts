import { describe, expect, it } from 'vitest';
import { ParkCodeDetector } from '../../src/calls/park-code.ts';

const keys = (d: ParkCodeDetector, side: string, typed: string, start = 0, stepMs = 200): (string | null)[] => [...typed].map((k, i) => d.feed(side, k, start + i * stepMs));

describe('the in-call park code', () => {
  it('gives the location once *8, its digits and # were keyed on one side', () => {
    const d = new ParkCodeDetector();
    expect(keys(d, 'a', '*8801#')).toEqual([null, null, null, null, null, '801']);
    // Again on the same side, and a one-digit location.
    expect(keys(d, 'a', '*87#', 5000)).toEqual([null, null, null, '7']);
  });

  it('keeps each side apart: digits of the other side do not complete a code', () => {
    const d = new ParkCodeDetector();
    expect(d.feed('a', '*', 0)).toBeNull();
    expect(d.feed('b', '8', 100)).toBeNull();
    expect(d.feed('a', '8', 200)).toBeNull();
    expect(d.feed('b', '#', 300)).toBeNull();
    expect(keys(d, 'a', '801#', 400)).toEqual([null, null, null, '801']);
  });

  it('ignores what is not a park code: *9 (recording), *8# with no location, a letter, too long a gap, too many digits', () => {
    const d = new ParkCodeDetector();
    expect(keys(d, 'a', '*9801#')).toEqual([null, null, null, null, null, null]);
    expect(keys(d, 'a', '*8#', 10_000)).toEqual([null, null, null]);
    expect(keys(d, 'a', '*8A801#', 20_000)).toEqual([null, null, null, null, null, null, null]);
    // Four seconds between two digits: the code starts over.
    expect([d.feed('a', '*', 30_000), d.feed('a', '8', 30_200), d.feed('a', '8', 34_300), d.feed('a', '0', 34_400), d.feed('a', '1', 34_500), d.feed('a', '#', 34_600)]).toEqual([null, null, null, null, null, null]);
    expect(keys(d, 'a', '*81234567890#', 40_000).at(-1)).toBeNull();
  });

  it('a star in the middle starts a new code', () => {
    const d = new ParkCodeDetector();
    expect(keys(d, 'a', '*88*8802#')).toEqual([null, null, null, null, null, null, null, null, '802']);
  });
});
