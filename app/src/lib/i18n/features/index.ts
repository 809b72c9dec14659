import { en as answeringRulesEn, fr as answeringRulesFr } from './answering-rules.ts';
import { en as callQueuesEn, fr as callQueuesFr } from './call-queues.ts';
import { en as conferenceEn, fr as conferenceFr } from './conference.ts';
import { en as ivrEn, fr as ivrFr } from './ivr.ts';
import { en as meetingsEn, fr as meetingsFr } from './meetings.ts';
import { en as monitoringEn, fr as monitoringFr } from './monitoring.ts';
import { en as pagingEn, fr as pagingFr } from './paging.ts';
import { en as parkEn, fr as parkFr } from './park.ts';
import { en as sharedLinesEn, fr as sharedLinesFr } from './shared-lines.ts';
import { en as smsEn, fr as smsFr } from './sms.ts';
import { en as voicemailEn, fr as voicemailFr } from './voicemail.ts';

/**
 * Per-feature dictionaries, merged over the shared ones (en.ts, fr.ts). A new
 * feature keeps its text in `features/<feature>.ts` (an `en` object, and an
 * `fr` typed by it, so a missing French key is a compile error) and adds one
 * line to each list here; it never edits the shared files. Keys are prefixed
 * by the feature (`answeringRules.title`).
 */
export const featureDictionaries = {
  en: { ...answeringRulesEn, ...callQueuesEn, ...conferenceEn, ...ivrEn, ...meetingsEn, ...monitoringEn, ...pagingEn, ...parkEn, ...sharedLinesEn, ...smsEn, ...voicemailEn },
  fr: { ...answeringRulesFr, ...callQueuesFr, ...conferenceFr, ...ivrFr, ...meetingsFr, ...monitoringFr, ...pagingFr, ...parkFr, ...sharedLinesFr, ...smsFr, ...voicemailFr },
} as const;
