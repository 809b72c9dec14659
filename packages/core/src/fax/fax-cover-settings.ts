import { DEFAULT_FAX_COVER_CHOICE, EMPTY_FAX_COVER_INFO, type FaxCoverChoice, type FaxCoverInfo, type FaxCoverTemplate } from '@carillon/domain';
import type { Db } from '@carillon/db';

/** A user's outbound fax settings (seed 000 "Paramètres de fax sortant"), with the defaults for a user who never saved them. */
export interface FaxCoverSettings {
  coverTemplate: FaxCoverChoice;
  omitCoverWhenSubjectBlank: boolean;
  coverInfo: FaxCoverInfo;
}

export async function faxCoverSettingsOf(db: Db, accountId: string, userId: string): Promise<FaxCoverSettings> {
  const row = await db
    .selectFrom('fax_cover_settings')
    .select(['cover_template', 'omit_cover_when_subject_blank', 'cover_info'])
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return {
    coverTemplate: row?.cover_template ?? DEFAULT_FAX_COVER_CHOICE,
    omitCoverWhenSubjectBlank: row?.omit_cover_when_subject_blank ?? true,
    coverInfo: { ...EMPTY_FAX_COVER_INFO, ...row?.cover_info },
  };
}

/** The template a fax gets when its sender asked for a cover page without naming one. */
export function templateFor(settings: FaxCoverSettings): FaxCoverTemplate {
  return settings.coverTemplate === 'none' ? 'classic' : settings.coverTemplate;
}
