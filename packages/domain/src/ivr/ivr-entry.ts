import type { IvrSettings } from './ivr-config.ts';
import { companyCallEntry } from './company-rules.ts';

/**
 * The top menu a call to a company number enters at by the hours alone (IVR-03, AR-03): the after-hours
 * menu when the account's hours, read on its time zone's wall clock at `at`, say the company is closed;
 * else the business-hours menu. An account that set no after-hours menu keeps answering with its
 * business-hours menu rather than refusing callers at night. It is `companyCallEntry` without custom
 * rules: the hours are read by the answering rules' evaluator, the one users' hours use.
 */
export function companyEntryMenu(settings: Pick<IvrSettings, 'hours' | 'businessHoursMenu' | 'afterHoursMenu'>, timeZone: string, at: Date): string | null {
  const entry = companyCallEntry(settings, [], timeZone, { at, callerId: null, calledNumber: null }).target;
  return entry?.type === 'menu' ? entry.menu : null;
}
