import { createMeetingSchema, joinMeetingSchema } from '@carillon/domain';
import type { Operation } from '../operations.ts';

/** Video meetings (issue 17). Unreleased: these answer 404 unless ENABLE_UNRELEASED names `meetings`. */
export const meetingsOperations: Operation[] = [
  { route: '/api/me/meetings', method: 'GET', summary: 'The signed-in user’s meetings: their personal meeting (10-digit ID, created on first read), then the meetings they created, each with its passcode (unreleased)' },
  { route: '/api/me/meetings', method: 'POST', summary: 'Create a meeting of the signed-in user: its own 10-digit ID, a topic, an optional scheduled start, a passcode (given, or drawn); at most 200 per host (unreleased)', body: createMeetingSchema, status: 201 },
  { route: '/api/me/meetings/[id]', method: 'GET', summary: 'One of the signed-in user’s meetings, by its uuid or 10-digit ID (unreleased)' },
  { route: '/api/me/meetings/[id]', method: 'DELETE', summary: 'Delete one of the signed-in user’s meetings; the personal meeting cannot be deleted (409) (unreleased)', status: 204 },
  { route: '/api/meetings/[number]/join', method: 'POST', summary: 'Join a meeting of the caller’s account by its 10-digit ID: the passcode is checked (the host needs none; 5 attempts per 10 minutes), and a short-lived join token for the meeting’s socket signalling is returned (unreleased)', body: joinMeetingSchema },
];
