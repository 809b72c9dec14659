import { conferenceInviteSchema, conferenceSettingsSchema, regenerateCodesSchema } from '@carillon/domain';
import { conferenceCommandRequest } from '@carillon/contracts/conference-control';
import type { Operation } from '../operations.ts';

/** The conference bridge (issue 16). Unreleased: these answer 404 unless ENABLE_UNRELEASED names `conference`. */
export const conferenceOperations: Operation[] = [
  { route: '/api/me/conference', method: 'GET', summary: 'The signed-in user’s conference: the bridge’s dial-in numbers, their host and participant access codes, their settings (unreleased)' },
  { route: '/api/me/conference', method: 'PUT', summary: 'Save the signed-in user’s conference settings: join before host, enter and exit tones, name announcements (unreleased)', body: conferenceSettingsSchema },
  { route: '/api/me/conference/invite', method: 'POST', summary: 'E-mail an invitation to the signed-in user’s conference (at most 50 recipients, 20 invites an hour): the chosen dial-in numbers, the participant code and a calendar invitation (unreleased)', body: conferenceInviteSchema },
  { route: '/api/me/conference/console', method: 'GET', summary: 'The host’s console: whether the signed-in user’s conference is in progress, and its members (number, name, role, muted) and lock (unreleased)' },
  { route: '/api/me/conference/console', method: 'POST', summary: 'A command of the host’s console on their conference in progress: mute or unmute a member, mute all but the host, lock, remove a member (their call ends), dial out to a user’s extension (unreleased)', body: conferenceCommandRequest },
  { route: '/api/me/conference/codes', method: 'POST', summary: 'Regenerate the signed-in user’s host code, participant code or both; the old ones stop working (unreleased)', body: regenerateCodesSchema },
];
