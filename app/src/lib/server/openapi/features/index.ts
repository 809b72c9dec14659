import type { Operation } from '../operations.ts';
import { answeringRulesOperations } from './answering-rules.ts';
import { conferenceOperations } from './conference.ts';
import { ivrOperations } from './ivr.ts';
import { meetingsOperations } from './meetings.ts';
import { callQueuesOperations } from './call-queues.ts';
import { monitoringOperations } from './monitoring.ts';
import { pagingOperations } from './paging.ts';
import { parkOperations } from './park.ts';
import { sharedLinesOperations } from './shared-lines.ts';
import { smsOperations } from './sms.ts';
import { voicemailOperations } from './voicemail.ts';

/**
 * Per-feature API operations, appended to OPERATIONS (operations.ts): a new
 * feature lists its operations in `features/<feature>.ts` and adds one line
 * here, instead of editing the central list.
 */
export const FEATURE_OPERATIONS: readonly Operation[] = [...answeringRulesOperations, ...conferenceOperations, ...ivrOperations, ...meetingsOperations, ...callQueuesOperations, ...monitoringOperations, ...pagingOperations, ...parkOperations, ...sharedLinesOperations, ...smsOperations, ...voicemailOperations];
