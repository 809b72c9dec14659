import { describe, expect, it } from 'vitest';
import { dialogInfo } from '../../src/registrar/park-dialog-events.ts';

/** The dialog-info document of a park location's busy lamp (RFC 4235 §4). */
describe('dialogInfo', () => {
  it('lists one confirmed dialog while a call is parked, with the version and entity', () => {
    const xml = dialogInfo('sip:801@carillon.test', 3, { id: 'park-801', state: 'confirmed' });
    expect(xml).toContain('<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="3" state="full" entity="sip:801@carillon.test">');
    expect(xml).toMatch(/<dialog id="park-801" direction="recipient">\s*<state>confirmed<\/state>\s*<\/dialog>/);
  });

  it("shows a user's ringing call as early", () => {
    expect(dialogInfo('sip:102@carillon.test', 1, { id: 'ext-1', state: 'early' })).toMatch(/<state>early<\/state>/);
  });

  it('lists no dialog when the location is free (a full state with none: the lamp goes off)', () => {
    const xml = dialogInfo('sip:801@carillon.test', 0, null);
    expect(xml).not.toContain('<dialog ');
    expect(xml).toContain('state="full"');
  });
});
