import { describe, expect, it } from 'vitest';
import { CallState, IllegalCallTransition, type CallMoves } from '../../src/calls/call-state.ts';

type S = 'Routing' | 'Ringing' | 'Answered' | 'Ended';
const MOVES: CallMoves<S> = { Routing: ['Ringing', 'Ended'], Ringing: ['Answered', 'Ended'], Answered: ['Ended'], Ended: [] };
const ALL: readonly S[] = ['Routing', 'Ringing', 'Answered', 'Ended'];

describe('CallState', () => {
  it('takes every move the table draws, and returns where it came from', () => {
    const s = new CallState<S>('Routing', MOVES, 'Ended');
    expect(s.current).toBe('Routing');
    expect(s.closed).toBe(false);
    expect(s.transition('Ringing')).toBe('Routing');
    expect(s.transition('Answered')).toBe('Ringing');
    expect(s.closed).toBe(false);
    expect(s.transition('Ended')).toBe('Answered');
    expect(s.current).toBe('Ended');
    expect(s.closed).toBe(true);
  });

  it('refuses, from every state, each move the table does not draw, and changes nothing', () => {
    for (const from of ALL) {
      for (const to of ALL) {
        if (MOVES[from].includes(to)) continue;
        const s = new CallState<S>(from, MOVES, 'Ended', 'a test call');
        expect(s.can(to)).toBe(false);
        let thrown: unknown = null;
        try {
          s.transition(to);
        } catch (err) {
          thrown = err;
        }
        expect(thrown).toBeInstanceOf(IllegalCallTransition);
        expect(thrown).toMatchObject({ from, to, message: `a test call cannot move from ${from} to ${to}` });
        expect(s.current).toBe(from);
      }
    }
  });

  it('the terminal state is the closed flag: nothing leaves it, not even to itself', () => {
    const s = new CallState<S>('Routing', MOVES, 'Ended');
    s.transition('Ended');
    for (const to of ALL) expect(() => s.transition(to)).toThrow(IllegalCallTransition);
    expect(s.closed).toBe(true);
  });

  it('refuses a table whose terminal state has a way out', () => {
    expect(() => new CallState<S>('Routing', { ...MOVES, Ended: ['Routing'] }, 'Ended')).toThrow(/terminal state Ended/);
  });
});
