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

export interface CustomDraft {
  id?: string;
  name: string;
  enabled: boolean;
  callerNumbers: string;
  anonymous: boolean;
  /** Kept as they were: the page does not edit contacts or weekly schedules of a rule yet. */
  contactIds: string[];
  calledNumbers: string;
  dateFrom: string;
  dateTo: string;
  otherConditions: RuleCondition[];
  handling: RuleHandling;
}

export interface AnsweringDraft {
  hours: { mode: '24h' | 'custom'; days: Record<WeekDay, { from: string; to: string }[]> };
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

function customDraft(r: CustomUserRule): CustomDraft {
  const caller = r.conditions.find((c) => c.type === 'caller_id');
  const called = r.conditions.find((c) => c.type === 'called_number');
  const dates = r.conditions.find((c) => c.type === 'date_range');
  return {
    id: r.id,
    name: r.name,
    enabled: r.enabled,
    callerNumbers: caller?.numbers.join(', ') ?? '',
    anonymous: caller?.anonymous ?? false,
    contactIds: caller?.contactIds ?? [],
    calledNumbers: called?.numbers.join(', ') ?? '',
    dateFrom: dates?.ranges[0]?.from ?? '',
    dateTo: dates?.ranges[0]?.to ?? '',
    otherConditions: r.conditions.filter((c) => c.type === 'schedule' || (c.type === 'date_range' && c.ranges.length > 1)),
    handling: handlingOf(r),
  };
}

export function newCustomDraft(name: string, from: RuleHandling): CustomDraft {
  return { name, enabled: true, callerNumbers: '', anonymous: false, contactIds: [], calledNumbers: '', dateFrom: '', dateTo: '', otherConditions: [], handling: handlingOf(from) };
}

/** The document to PUT; fields the owner left empty become no condition, and the server names what is still missing. */
export function toDocument(d: AnsweringDraft): unknown {
  const hours: WeeklySchedule | { mode: 'custom'; days: Record<WeekDay, { from: string; to: string }[]> } = d.hours.mode === '24h' ? { mode: '24h' } : { mode: 'custom', days: d.hours.days };
  return {
    hours,
    inHours: d.inHours,
    afterHours: d.afterHours,
    custom: d.custom.map((r) => {
      const conditions: unknown[] = [];
      const callers = list(r.callerNumbers);
      if (callers.length || r.anonymous || r.contactIds.length) conditions.push({ type: 'caller_id', numbers: callers, contactIds: r.contactIds, anonymous: r.anonymous });
      const called = list(r.calledNumbers);
      if (called.length) conditions.push({ type: 'called_number', numbers: called });
      const multi = r.otherConditions.find((c) => c.type === 'date_range');
      if (multi) conditions.push(multi);
      else if (r.dateFrom || r.dateTo) conditions.push({ type: 'date_range', ranges: [{ from: r.dateFrom, to: r.dateTo }] });
      conditions.push(...r.otherConditions.filter((c) => c.type === 'schedule'));
      return { ...(r.id ? { id: r.id } : {}), name: r.name, enabled: r.enabled, conditions, ...r.handling };
    }),
    settings: { ...d.settings, blocking: { anonymous: d.settings.blocking.anonymous, numbers: list(d.blockedNumbers) } },
  };
}
