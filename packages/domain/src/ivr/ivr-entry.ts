import { companyCallEntry, type CompanyEntrySettings } from './company-rules.ts';

/**
 * The top menu a call to a company number enters at by the hours alone (IVR-03, AR-03): the after-hours
 * menu when the account's hours, read on its time zone's wall clock at `at`, say the company is closed;
 * else the business-hours menu. An account that set no after-hours menu keeps answering with its
 * business-hours menu rather than refusing callers at night. It is `companyCallEntry` without custom
 * rules: the hours are read by the answering rules' evaluator, the one users' hours use. Null in
 * single-level mode, whose schedules go to the company greeting or an extension, not to a menu.
 */
export function companyEntryMenu(settings: CompanyEntrySettings, timeZone: string, at: Date): string | null {
  const entry = companyCallEntry(settings, [], timeZone, { at, callerId: null, calledNumber: null }).target;
  return entry?.type === 'menu' ? entry.menu : null;
}
