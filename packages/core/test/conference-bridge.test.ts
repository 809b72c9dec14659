import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '@carillon/db';
import { conferenceByAccessCode, conferenceCodesOf, conferenceDialIns, conferenceSettingsOf, regenerateConferenceCodes, saveConferenceSettings, setConferenceDialIn } from '@carillon/core/conference';
import { DEFAULT_CONFERENCE_SETTINGS, isAccessCode } from '@carillon/domain';
import { freshDb } from '../../../tests/support/env.ts';
import { activatedAccount, addUser } from './support.ts';

/**
 * The conference bridge's data on a real database (PGlite): each user's host and participant codes
 * (created on first read, unique in the account, regenerated on demand), the code's lookup that
 * decides whose conference and which role, the host's settings, the dial-in numbers, each scoped
 * to its account and audited without the codes.
 */
let db: Db;
beforeAll(async () => {
  db = await freshDb();
});
afterAll(async () => {
  await db?.destroy();
});
const actor = { userId: null, ip: '203.0.113.1' };

describe('conference access codes', () => {
  it('gives every user two distinct codes, finds the role by code in its account only, and regenerates them', async () => {
    const a = await activatedAccount(db);
    const other = await activatedAccount(db);
    const ann = await addUser(db, a.accountId, { number: '201' });
    const bob = await addUser(db, a.accountId, { number: '202' });
    const annCodes = (await conferenceCodesOf(db, a.accountId, ann.extensionId))!;
    const bobCodes = (await conferenceCodesOf(db, a.accountId, bob.extensionId))!;
    for (const c of [annCodes.host, annCodes.participant, bobCodes.host, bobCodes.participant]) expect(isAccessCode(c)).toBe(true);
    expect(new Set([annCodes.host, annCodes.participant, bobCodes.host, bobCodes.participant]).size).toBe(4);
    // Stable once created.
    expect(await conferenceCodesOf(db, a.accountId, ann.extensionId)).toEqual(annCodes);
    expect(await conferenceByAccessCode(db, a.accountId, annCodes.host)).toEqual({ hostExtensionId: ann.extensionId, role: 'host', settings: DEFAULT_CONFERENCE_SETTINGS });
    expect(await conferenceByAccessCode(db, a.accountId, annCodes.participant)).toMatchObject({ hostExtensionId: ann.extensionId, role: 'participant' });
    // Another account's code, and another account's extension, reach nothing.
    expect(await conferenceByAccessCode(db, other.accountId, annCodes.host)).toBeNull();
    expect(await conferenceCodesOf(db, other.accountId, ann.extensionId)).toBeNull();
    expect(await regenerateConferenceCodes(db, actor, other.accountId, ann.extensionId)).toBeNull();

    const fresh = (await regenerateConferenceCodes(db, actor, a.accountId, ann.extensionId, 'participant'))!;
    expect(fresh.host).toBe(annCodes.host);
    expect(fresh.participant).not.toBe(annCodes.participant);
    expect(await conferenceByAccessCode(db, a.accountId, annCodes.participant)).toBeNull();
    expect(await conferenceByAccessCode(db, a.accountId, fresh.participant)).toMatchObject({ role: 'participant' });
    const audit = await db.selectFrom('audit_events').select(['action', 'after']).where('account_id', '=', a.accountId).where('action', '=', 'conference.codes_regenerated').execute();
    expect(audit).toHaveLength(1);
    // The trail says which codes changed, never the codes.
    expect(JSON.stringify(audit[0]!.after)).not.toContain(fresh.participant);
  });

  it('keeps the host settings (defaults until saved) and the account\'s dial-in numbers', async () => {
    const a = await activatedAccount(db);
    const ann = await addUser(db, a.accountId, { number: '201' });
    expect(await conferenceSettingsOf(db, a.accountId, ann.extensionId)).toEqual(DEFAULT_CONFERENCE_SETTINGS);
    const settings = { joinBeforeHost: true, enterTone: false, exitTone: true, announceNames: false };
    expect(await saveConferenceSettings(db, actor, a.accountId, ann.extensionId, settings)).toBe(true);
    expect(await conferenceSettingsOf(db, a.accountId, ann.extensionId)).toEqual(settings);
    const codes = (await conferenceCodesOf(db, a.accountId, ann.extensionId))!;
    expect((await conferenceByAccessCode(db, a.accountId, codes.participant))?.settings).toEqual(settings);

    const number = await db.insertInto('phone_numbers').values({ account_id: a.accountId, e164: '+14155550177', type: 'additional_company', extension_id: null, site_id: null, nickname: null }).returning('id').executeTakeFirstOrThrow();
    const other = await activatedAccount(db);
    expect(await setConferenceDialIn(db, actor, other.accountId, number.id, true)).toBe(false);
    expect(await setConferenceDialIn(db, actor, a.accountId, number.id, true)).toBe(true);
    expect(await conferenceDialIns(db, a.accountId)).toEqual(['+14155550177']);
    expect(await conferenceDialIns(db, other.accountId)).toEqual([]);
    expect(await setConferenceDialIn(db, actor, a.accountId, number.id, false)).toBe(true);
    expect(await conferenceDialIns(db, a.accountId)).toEqual([]);
  });
});
