import { conferenceByAccessCode } from '@carillon/core/conference';
import type { Db } from '@carillon/db';
import type { ConferenceAccess } from '../apps/conference/conference-access.ts';

/** The conference application's access codes, read from the database at each attempt (a code regenerated in the app works at once). */
export function conferenceAccessSource(db: Db): ConferenceAccess {
  return { byCode: (accountId, code) => conferenceByAccessCode(db, accountId, code) };
}
