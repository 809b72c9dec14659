import { DEFAULT_RING_FOR_SECONDS, type MusicTrack } from '@carillon/domain';
import { reject, type Destination, type DestinationKind, type ExtensionDestination, type PstnDestination, type RejectDestination } from '../routing/destination.ts';
import { announcementApp } from './announcement/announcement.ts';
import type { CallApp } from './call-handle.ts';
import { conferenceApp, type ConferenceAppDeps } from './conference/conference.ts';
import { pagingApp } from './paging/paging.ts';
import type { PagingGroups } from './paging/paging-groups.ts';
import { ivrApp } from './ivr/ivr.ts';
import { queueApp } from './queue/queue.ts';
import { sharedLineApp } from './shared-line/shared-line.ts';
import type { SharedLines } from './shared-line/shared-lines.ts';
import { queueAgentApp } from './queue/queue-agent.ts';
import type { QueueAgents, QueueDirectory, QueueState } from './queue/queue-ports.ts';
import type { QueueWakeups } from './queue/queue-wakeups.ts';
import type { IvrMenus } from './ivr/ivr-menus.ts';
import { mailboxApp, mailboxSignIn } from './mailbox/mailbox.ts';
import type { MailboxAccess, MailboxCallBack } from './mailbox/mailbox-access.ts';
import { messageOnlyApp } from './message-only/message-only.ts';
import { withOwnerSignIn, type Mailboxes } from './voicemail/mailboxes.ts';
import type { AnsweringRulesSource, ForwardingRoutes } from './user-answering/answering-rules.ts';
import { ring, userAnsweringApp } from './user-answering/user-answering.ts';

/** The destinations today's B2BUA (calls/b2bua/b2bua-call.ts) puts through: an extension's devices, or the carrier. */
export type BridgedDestination = ExtensionDestination | PstnDestination;

/**
 * What the call engine does with a destination until its application exists:
 * 480 with a reason phrase that says which feature is not available
 * (RFC 3261 §21.4.18: the callee is reachable in principle, not now), never a
 * 500 and never a half-working feature. Null for a destination that is
 * handled (bridged, or already a rejection).
 */
export function withoutApplication(destination: Destination): RejectDestination | null {
  const reason = REASONS[destination.kind];
  return reason ? reject(480, reason, 'unavailable') : null;
}

const REASONS: Partial<Record<Destination['kind'], string>> = {
  voicemail: 'Voicemail Not Available',
  ivr: 'Auto-Receptionist Not Available',
  queue: 'Call Queue Not Available',
  conference: 'Conferencing Not Available',
  park: 'Call Park Not Available',
  pickup: 'Call Pickup Not Available',
  monitor: 'Call Monitoring Not Available',
  page: 'Paging Not Available',
  shared_line: 'Shared Lines Not Available',
  // Only on a node whose engine has no mailboxes (the application needs them): otherwise announcementApp takes it.
  announcement: 'Announcement Not Available',
  mailbox: 'Mailbox Not Available',
};

/** What applications are given to reach the rest of the system (ports that calls/ implements). */
export interface ApplicationPorts {
  mailboxes: Mailboxes;
  /** The clock applications read hours at (a user's hours, the IVR's): a test clock; the wall clock otherwise. */
  now?: () => Date;
  /**
   * Users' answering rules. Only where the unreleased area 'answering_rules' is enabled: calls to a
   * user's extension then go to the user-answering application; without it, to the B2BUA as before.
   */
  answeringRules?: AnsweringRulesSource;
  /** Users' forwarding numbers as outside destinations (with answeringRules). */
  forwarding?: ForwardingRoutes;
  /** The audio file of a stock music track (a user's audio while connecting, with answeringRules). */
  music?: (track: MusicTrack) => string;
  /** Accounts' IVR menus. Only where the unreleased area 'ivr' is enabled: IVR destinations then go to the IVR application; without it, 480. */
  ivrMenus?: IvrMenus;
  /** How long the IVR waits for a key after a prompt (ms); its NO_INPUT_MS when absent (tests shorten it). */
  ivrNoInputMs?: number;
  /** Mailboxes by phone (`*86`). Only where the unreleased area 'voicemail' is enabled (the dial plan routes `*86` only then). */
  mailboxAccess?: MailboxAccess;
  /** Where the mailbox's "call the sender back" goes (with mailboxAccess); without it, the caller is told it cannot. */
  mailboxCallBack?: MailboxCallBack;
  /** Call queues and their shared state. Only where the unreleased area 'queues' is enabled: queue destinations then go to the queue application; without it, 480. */
  queues?: { directory: QueueDirectory; state: QueueState; agents: QueueAgents; now?: () => Date; pollMs?: number; wakeups?: QueueWakeups };
  /** The conference bridge. Only where the unreleased area 'conference' is enabled: conference destinations then go to it; without it, 480. */
  conference?: ConferenceAppDeps;
  /** Paging groups. Only where the unreleased area 'paging' is enabled: `*84` + a group's number then pages it; without it, 480. */
  paging?: PagingGroups;
  /** Shared lines. Only where the unreleased area 'shared_lines' is enabled: the dial plan then routes a line's number here; without it, a line rings like a user. */
  sharedLines?: { lines: SharedLines; forwarding: ForwardingRoutes };
}

/**
 * The one place a destination meets its application: `Destination kind ->
 * CallApp`. The call engine looks the destination up here first; a kind
 * that is not here is bridged (extension, pstn), refused (reject), or gets
 * the 480 of `withoutApplication`. A new application is one line here.
 */
export type ApplicationTable = Partial<Record<DestinationKind, CallApp>>;

export function callApplications(given: ApplicationPorts): ApplicationTable {
  // Where mailboxes by phone are on, every greeting of a user's mailbox lets its owner in with `*`.
  const ports = given.mailboxAccess ? { ...given, mailboxes: withOwnerSignIn(given.mailboxes, mailboxSignIn(given.mailboxAccess, given.mailboxCallBack ?? null)) } : given;
  const messageOnly = messageOnlyApp(ports.mailboxes);
  const clock = ports.now ? { now: ports.now } : {};
  return {
    ...(ports.answeringRules
      ? { extension: userAnsweringApp({ rules: ports.answeringRules, mailboxes: ports.mailboxes, ...(ports.forwarding ? { forwarding: ports.forwarding } : {}), ...(ports.music ? { music: ports.music } : {}), ...clock }) }
      : {}),
    ...(ports.ivrMenus
      ? {
          ivr: ivrApp({
            menus: ports.ivrMenus,
            mailboxes: ports.mailboxes,
            ...(ports.answeringRules ? { answeringRules: ports.answeringRules } : {}),
            ...(ports.forwarding ? { forwarding: ports.forwarding } : {}),
            ...(ports.music ? { music: ports.music } : {}),
            ...(ports.ivrNoInputMs ? { noInputMs: ports.ivrNoInputMs } : {}),
            ...clock,
          }),
        }
      : {}),
    announcement: announcementApp(ports.mailboxes),
    ...(ports.mailboxAccess ? { mailbox: mailboxApp(ports.mailboxAccess, ports.mailboxCallBack ?? null) } : {}),
    ...(ports.queues ? { queue: queueApp({ ...ports.queues, mailboxes: ports.mailboxes }), queue_login: queueAgentApp(ports.queues.agents) } : {}),
    ...(ports.conference ? { conference: conferenceApp(ports.conference) } : {}),
    ...(ports.paging ? { page: pagingApp({ groups: ports.paging }) } : {}),
    ...(ports.sharedLines ? { shared_line: sharedLineApp({ ...ports.sharedLines, mailboxes: ports.mailboxes, ...clock }) } : {}),
    // Only message-only extensions reach a mailbox today; the other reasons (no answer, busy, rules) come with user voicemail.
    voicemail: (call, destination) => (destination.kind === 'voicemail' && destination.why === 'message_only' ? messageOnly(call, destination) : call.reject(480, REASONS.voicemail)),
  };
}

/** The application that takes this destination, if any. */
export function applicationFor(table: ApplicationTable, destination: Destination): CallApp | null {
  return table[destination.kind] ?? null;
}

/**
 * The application that takes a call handed on by `CallHandle.transfer`: the
 * destination's own, else for a user's extension ringing its phones with
 * ring-back (what the B2BUA does had the call come there first). Null when it
 * leads nowhere (refused, or its feature not available here).
 */
export function transferApplicationFor(table: ApplicationTable, destination: Destination): CallApp | null {
  const app = applicationFor(table, destination);
  if (app) return app;
  if (destination.kind === 'extension') return async (call, d) => void (await ring(call, d as ExtensionDestination, DEFAULT_RING_FOR_SECONDS));
  return null;
}

/** The destination as the B2BUA takes it: bridged, or refused (with the reason of a missing application). */
export function bridgedOrRejected(destination: Destination): BridgedDestination | RejectDestination {
  if (destination.kind === 'extension' || destination.kind === 'pstn' || destination.kind === 'reject') return destination;
  return withoutApplication(destination) ?? reject(480, 'Temporarily Unavailable', 'unavailable');
}
