import { describe, expect, it } from 'vitest';
import { commandAllowed, commandsOf, isAccessCode, newAccessCode, nextListeningMode, nextToneState } from '@carillon/domain';

describe('conference rules (inventory 1 §5.3)', () => {
  it('cycles the listening modes: muted with self-unmute, listen only, open', () => {
    expect(nextListeningMode('open')).toBe('muted');
    expect(nextListeningMode('muted')).toBe('listen_only');
    expect(nextListeningMode('listen_only')).toBe('open');
  });

  it('cycles the enter/exit tones through the seed\'s four states, from all on to all off first', () => {
    const seen = [];
    let s = { enter: true, exit: true };
    for (let i = 0; i < 4; i++) seen.push((s = nextToneState(s)));
    expect(seen).toEqual([
      { enter: false, exit: false },
      { enter: true, exit: false },
      { enter: false, exit: true },
      { enter: true, exit: true },
    ]);
  });

  it('gives the host every command and participants count, leave, menu and their own mute', () => {
    expect(commandsOf('host').map((c) => c.key)).toEqual(['2', '3', '4', '5', '6', '7', '8', '9']);
    expect(commandsOf('participant').map((c) => c.key)).toEqual(['2', '3', '4', '6']);
    expect(commandAllowed('participant', 'lock')).toBe(false);
  });

  it('draws six-digit codes that are not a repeated digit or a run', () => {
    const draws = [111111, 123456, 987654, 4821];
    expect(newAccessCode(() => draws.shift()!)).toBe('004821');
    expect(isAccessCode('004821')).toBe(true);
    expect(isAccessCode('4821')).toBe(false);
  });
});
