import type { RouteRule } from '../access-policy.ts';
import { answeringRulesAccess } from './answering-rules.ts';
import { conferenceAccess } from './conference.ts';
import { ivrAccess } from './ivr.ts';
import { meetingsAccess } from './meetings.ts';
import { callQueuesAccess } from './call-queues.ts';
import { monitoringAccess } from './monitoring.ts';
import { pagingAccess } from './paging.ts';
import { parkAccess } from './park.ts';
import { sharedLinesAccess } from './shared-lines.ts';
import { smsAccess } from './sms.ts';
import { voicemailAccess } from './voicemail.ts';

/**
 * Per-feature access rules, merged into ROUTE_ACCESS (access-policy.ts): a new
 * feature keeps its routes' rules in `access-features/<feature>.ts` and adds
 * one line here, instead of editing the central table. A route listed twice is
 * a mistake the access-policy test catches.
 */
export const FEATURE_ROUTE_ACCESS: Record<string, RouteRule>[] = [answeringRulesAccess, conferenceAccess, ivrAccess, meetingsAccess, callQueuesAccess, monitoringAccess, pagingAccess, parkAccess, sharedLinesAccess, smsAccess, voicemailAccess];
