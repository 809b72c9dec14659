import type { Permission } from '@carillon/domain';

/**
 * Settings and permissions of features that do not exist yet (voicemail, SMS, call queues,
 * meetings, reports, billing). The data model keeps them, so nothing is lost when the feature
 * arrives; the UI hides them until then, because a switch that leads nowhere misleads. Remove a
 * line here when its feature ships.
 */
export const UNRELEASED_PERMISSIONS: ReadonlySet<Permission> = new Set<Permission>(['meetings.manage', 'reports.view', 'billing.view', 'billing.manage']);

/**
 * Notification e-mails of unreleased areas, each with its area: the switch shows only where the area is
 * enabled, as the workers send these e-mails only there.
 */
export const UNRELEASED_NOTIFICATIONS: ReadonlyMap<string, UnreleasedArea> = new Map<string, UnreleasedArea>([
  ['voicemail', 'voicemail'],
  ['textMessages', 'sms'],
]);

/** Do Not Disturb statuses about call queues, which do not exist yet. */
export const UNRELEASED_DND: ReadonlySet<string> = new Set(['no_queue_calls']);

/**
 * Whole feature areas built but not yet working end to end: their pages, API routes and links answer
 * as if they did not exist (404, no link), unless the server's ENABLE_UNRELEASED names them (tests and
 * the feature's developers). The server decides (`lib/server/unreleased.ts`); pages get the answer in
 * their data.
 *
 * - `answering_rules`: user hours, answering rules, forwarding and call settings (issue 13) are saved and
 *   validated, but calls do not obey them until the call model's applications read them.
 * - `conference`: the audio conference bridge (issue 16): the bridge number, access codes, the
 *   conference application by phone, and My Extension › Conferencing (codes, settings, e-mail invites)
 *   work, but the moderator console and browser members do not exist yet. media-server routes dial-in
 *   numbers to it only with the area.
 * - `ivr`: IVR menus, the prompts library and the IVR editor with its simulator (issue 14) are stored,
 *   validated and simulated, but calls do not run IVR menus until the call-side application lands.
 * - `queues`: call queues (issue 15): settings and members are stored, and media-server's queue application
 *   distributes calls (Rotating, Simultaneous, Sequential) with hold music, wrap-up and wait limits; hidden
 *   until the admin pages, agents' log-in codes, overflow and callbacks exist (the supervisor view is there).
 * - `shared_lines`: shared lines (issue 15 point 3, SL-01…SL-09): stored and edited through the API
 *   (`/api/shared-lines`: devices in order, hours, call handling, greeting, hold music, blocked callers,
 *   outbound caller ID, messages) and the admin pages (Phone System › Shared Lines), and media-server's
 *   shared-line application rings the line's devices; hidden until shared-line hold and pickup (SL-01) exist.
 * - `sms`: text messages under My Extension › Messages (issue 18): conversations, sending to numbers and
 *   contacts, search, live events, notification e-mails, company numbers read by the Company Fax/SMS
 *   recipient; hidden until MMS attachments exist.
 * - `voicemail`: the voicemail inbox under My Extension › Messages (issue 13): messages, audio, transcripts,
 *   trash, live unread badge; hidden until calls deposit messages and greetings, phone access,
 *   notification e-mails and message-waiting indication exist.
 * - `meetings`: video meetings (issue 17): a host's personal meeting ID and created meetings with passcodes
 *   (`/api/me/meetings`), and the join page `/meetings/[id]` (passcode checked on the server); hidden until
 *   the browser-to-SFU signalling, the gallery and the rest of issue 17 (simulcast, screen share, chat,
 *   waiting room, host controls, recording) exist.
 * - `monitoring`: call monitoring groups (issue 15 point 6, MON-01/MON-02): groups of monitors and monitored users
 *   (`/api/monitoring-groups`), and media-server's listen, whisper, barge and take over by keypad code (`*81`…`*85`
 *   + extension) on two-party calls; hidden until the admin pages, monitoring from the web app, monitoring of
 *   application calls (queues) and the monitor's leg in the call log exist.
 * - `paging`: paging-only groups (issue 15 point 2): groups are stored and edited through the API, and
 *   media-server pages with `*84` + a group's number (receivers auto-answer, one-way audio, allowed pagers
 *   only; a browser softphone in the group answers the page by itself); hidden until the admin pages exist.
 * - `park`: park locations and directed call pickup (issue 15 points 4, 5): their API (`/api/park-locations`,
 *   `/api/pickup-groups`) and admin pages; media-server parks by transfer to a location, retrieves, recalls,
 *   picks up with `*58`, and lights dialog-event BLF (RFC 4235); hidden until park codes and cross-node
 *   retrieval exist.
 */
export const UNRELEASED_AREAS = ['answering_rules', 'conference', 'ivr', 'meetings', 'monitoring', 'paging', 'park', 'queues', 'shared_lines', 'sms', 'voicemail'] as const;
export type UnreleasedArea = (typeof UNRELEASED_AREAS)[number];
