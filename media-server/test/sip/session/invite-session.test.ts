import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLadder, playLadder } from './support/ladder.ts';

/**
 * InviteSession against recorded SIP ladders (ladders/*.ladder, format in
 * ladders/README.md): each is played through a real transaction layer on a
 * fake transport, the peer's messages in and ours checked one by one.
 */
const dir = path.join(import.meta.dirname, 'ladders');
const ladders = fs.readdirSync(dir).filter((f) => f.endsWith('.ladder')).sort();

describe('InviteSession ladders', () => {
  it('has the ladders the session must pass', () => {
    expect(ladders).toEqual(expect.arrayContaining([
      'uas-offer-answer.ladder',
      'uas-late-offer.ladder',
      'uas-ack-timeout.ladder',
      'uas-bye-before-ack.ladder',
      'uas-bye-before-ack-timeout.ladder',
      'uas-reinvite-hold.ladder',
      'uas-update.ladder',
      'glare.ladder',
      'session-refresh-uas.ladder',
      'session-expiry.ladder',
      'session-too-brief.ladder',
      'uac-late-offer.ladder',
    ]));
  });

  for (const file of ladders) {
    it(file.replace(/\.ladder$/, ''), async () => {
      // Every step checks itself (a message not sent, an event not told, a state not reached throws).
      const ladder = parseLadder(path.join(dir, file));
      expect(ladder.steps.length).toBeGreaterThan(2);
      await playLadder(ladder);
    }, 60_000);
  }
});
