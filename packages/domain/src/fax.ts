/**
 * Fax cover pages (seed 000 "Paramètres de fax sortant": "Cover Page" template, e.g. "Contempo", or None;
 * "Omit cover page when email subject is blank" On/Off). A template decides the layout only: every template
 * prints the same fields.
 */
export const FAX_COVER_TEMPLATES = ['classic', 'contempo', 'confidential'] as const;
export type FaxCoverTemplate = (typeof FAX_COVER_TEMPLATES)[number];
/** The user's default: a template, or no cover page at all. */
export type FaxCoverChoice = FaxCoverTemplate | 'none';
export const FAX_COVER_CHOICES = [...FAX_COVER_TEMPLATES, 'none'] as const satisfies readonly FaxCoverChoice[];
/** The seed's screenshot shows "Contempo" chosen. */
export const DEFAULT_FAX_COVER_CHOICE: FaxCoverChoice = 'contempo';

/** "Cover Page Info — printed on your fax cover page". Empty strings are left off the page. */
export interface FaxCoverInfo {
  company: string;
  street: string;
  street2: string;
  city: string;
  state: string;
  postalCode: string;
  country: string;
  /** E.164, one of the account's numbers. */
  phoneNumber: string;
  /** E.164, one of the account's numbers. */
  faxNumber: string;
}

export const EMPTY_FAX_COVER_INFO: FaxCoverInfo = { company: '', street: '', street2: '', city: '', state: '', postalCode: '', country: '', phoneNumber: '', faxNumber: '' };
