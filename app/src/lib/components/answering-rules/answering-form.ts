import {
  MUSIC_TRACKS,
  WEEK_DAYS,
  type CustomUserRule,
  type RuleCondition,
  type RuleHandling,
  type UserAnswering,
  type UserCallSettings,
  type WeekDay,
  type WeeklySchedule,
} from '@carillon/domain';

/**
 * The answering document as the page edits it: lists of numbers as text, one
 * date period per rule, every day present. `toDocument` turns it back into the
 * document the API validates (domain's userAnsweringSchema); the server is
 * the judge of what is valid, the page only shapes it.
 */
export interface AnsweringView {
  timeZone: string;
  devices: { id: string; name: string; type: string }[];
  answering: UserAnswering;
}

/** A weekly schedule as its editor (WeeklyScheduleEditor) edits it: every day present. */
export interface ScheduleDraft {
  mode: '24h' | 'custom';
  days: Record<WeekDay, { from: string; to: string }[]>;
}

/**
 * A custom rule's conditions as the page edits them (RULE-03…RULE-05, inventory 1 §7.6): numbers as
 * text, one date period, a weekly schedule. The same editor (RuleConditionsEditor) serves a user's rules
 * and the company's; `toConditions` turns it back into what domain's ruleConditionsSchema validates.
 */
export interface ConditionsDraft {
  callerNumbers: string;
  anonymous: boolean;
  /** Kept as they were: the page does not edit contacts yet. */
  contactIds: string[];
  calledNumbers: string;
  dateFrom: string;
  dateTo: string;
  scheduleOn: boolean;
  schedule: ScheduleDraft;
  /** Kept as they were: a date condition of several periods (the page edits one). */
  otherConditions: RuleCondition[];
}

export interface CustomDraft {
  id?: string;
  name: string;
  enabled: boolean;
  conditions: ConditionsDraft;
  handling: RuleHandling;
}

export interface AnsweringDraft {
  hours: ScheduleDraft;
  inHours: RuleHandling;
  afterHours: RuleHandling;
  custom: CustomDraft[];
  settings: UserCallSettings;
  blockedNumbers: string;
}

export { MUSIC_TRACKS, WEEK_DAYS };

const list = (text: string) =>
  text
    .split(/[,;\n]/)
    .map((s) => s.trim())
    .filter(Boolean);

/** A deep copy that also takes the page's reactive proxies (structuredClone refuses them); the data is plain JSON. */
const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const handlingOf = (r: RuleHandling): RuleHandling => copy({ ringPlan: r.ringPlan, afterRinging: r.afterRinging, greeting: r.greeting, audioWhileConnecting: r.audioWhileConnecting });

export function toDraft(doc: UserAnswering): AnsweringDraft {
  const days = Object.fromEntries(WEEK_DAYS.map((d) => [d, doc.hours.mode === 'custom' ? doc.hours.days[d].map((r) => ({ ...r })) : []])) as AnsweringDraft['hours']['days'];
  return {
    hours: { mode: doc.hours.mode, days },
    inHours: handlingOf(doc.inHours),
    afterHours: handlingOf(doc.afterHours),
    custom: doc.custom.map(customDraft),
    settings: copy(doc.settings),
    blockedNumbers: doc.settings.blocking.numbers.join(', '),
  };
}

/** Office hours on weekdays: where a schedule starts when the owner turns one on. */
const officeHours = (): ScheduleDraft => ({ mode: 'custom', days: Object.fromEntries(WEEK_DAYS.map((d) => [d, ['sat', 'sun'].includes(d) ? [] : [{ from: '09:00', to: '17:00' }]])) as ScheduleDraft['days'] });

export function conditionsDraft(conditions: readonly RuleCondition[]): ConditionsDraft {
  const caller = conditions.find((c) => c.type === 'caller_id');
  const called = conditions.find((c) => c.type === 'called_number');
  const dates = conditions.find((c) => c.type === 'date_range');
  const schedule = conditions.find((c) => c.type === 'schedule');
  return {
    callerNumbers: caller?.numbers.join(', ') ?? '',
    anonymous: caller?.anonymous ?? false,
    contactIds: caller?.contactIds ?? [],
    calledNumbers: called?.numbers.join(', ') ?? '',
    dateFrom: dates && dates.ranges.length === 1 ? dates.ranges[0]!.from : '',
    dateTo: dates && dates.ranges.length === 1 ? dates.ranges[0]!.to : '',
    scheduleOn: schedule !== undefined,
    schedule: schedule ? { mode: schedule.schedule.mode, days: Object.fromEntries(WEEK_DAYS.map((d) => [d, schedule.schedule.mode === 'custom' ? schedule.schedule.days[d].map((r) => ({ ...r })) : []])) as ScheduleDraft['days'] } : officeHours(),
    otherConditions: copy(conditions.filter((c) => c.type === 'date_range' && c.ranges.length > 1)),
  };
}

/** The conditions to send; fields the owner left empty become no condition, and the server names what is still missing. */
export function toConditions(d: ConditionsDraft): unknown[] {
  const conditions: unknown[] = [];
  const callers = list(d.callerNumbers);
  if (callers.length || d.anonymous || d.contactIds.length) conditions.push({ type: 'caller_id', numbers: callers, contactIds: d.contactIds, anonymous: d.anonymous });
  const called = list(d.calledNumbers);
  if (called.length) conditions.push({ type: 'called_number', numbers: called });
  const multi = d.otherConditions.find((c) => c.type === 'date_range');
  if (multi) conditions.push(multi);
  else if (d.dateFrom || d.dateTo) conditions.push({ type: 'date_range', ranges: [{ from: d.dateFrom, to: d.dateTo }] });
  if (d.scheduleOn) conditions.push({ type: 'schedule', schedule: d.schedule.mode === '24h' ? { mode: '24h' } : { mode: 'custom', days: d.schedule.days } });
  return conditions;
}

function customDraft(r: CustomUserRule): CustomDraft {
  return { id: r.id, name: r.name, enabled: r.enabled, conditions: conditionsDraft(r.conditions), handling: handlingOf(r) };
}

export function newCustomDraft(name: string, from: RuleHandling): CustomDraft {
  return { name, enabled: true, conditions: conditionsDraft([]), handling: handlingOf(from) };
}

/** The document to PUT; fields the owner left empty become no condition, and the server names what is still missing. */
export function toDocument(d: AnsweringDraft): unknown {
  const hours: WeeklySchedule | ScheduleDraft = d.hours.mode === '24h' ? { mode: '24h' } : { mode: 'custom', days: d.hours.days };
  return {
    hours,
    inHours: d.inHours,
    afterHours: d.afterHours,
    custom: d.custom.map((r) => ({ ...(r.id ? { id: r.id } : {}), name: r.name, enabled: r.enabled, conditions: toConditions(r.conditions), ...r.handling })),
    settings: { ...d.settings, blocking: { anonymous: d.settings.blocking.anonymous, numbers: list(d.blockedNumbers) } },
  };
}
