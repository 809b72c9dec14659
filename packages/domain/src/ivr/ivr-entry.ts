import { isWithinSchedule } from '../answering-rules/schedule.ts';
import type { IvrSettings } from './ivr-config.ts';

/**
 * The top menu a call to a company number enters at (IVR-03, AR-03): the after-hours menu when the
 * account's hours, read on its time zone's wall clock at `at`, say the company is closed; else the
 * business-hours menu. An account that set no after-hours menu keeps answering with its business-hours
 * menu rather than refusing callers at night. The hours are evaluated by the answering rules' schedule
 * evaluator, the one users' hours use: there is one schedule evaluator, not two.
 */
export function companyEntryMenu(settings: Pick<IvrSettings, 'hours' | 'businessHoursMenu' | 'afterHoursMenu'>, timeZone: string, at: Date): string | null {
  if (settings.afterHoursMenu !== null && !isWithinSchedule(settings.hours, timeZone, at)) return settings.afterHoursMenu;
  return settings.businessHoursMenu;
}
