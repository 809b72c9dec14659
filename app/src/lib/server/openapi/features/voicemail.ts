import { voicemailAudioQuery, voicemailListQuery, voicemailMarkSchema } from '../../voicemail/voicemail.ts';
import type { Operation } from '../operations.ts';

/** The voicemail inbox (issue 13). Unreleased: these answer 404 unless ENABLE_UNRELEASED names `voicemail`. */
export const voicemailOperations: Operation[] = [
  { route: '/api/me/voicemail', method: 'GET', summary: 'The signed-in user’s mailboxes (own and shared), their messages with transcripts (inbox or trash) and the unread count (unreleased)', query: voicemailListQuery },
  { route: '/api/me/voicemail/unread', method: 'GET', summary: 'How many new voicemail messages the signed-in user has, over the mailboxes they read (unreleased)' },
  { route: '/api/me/voicemail/messages/[id]', method: 'PATCH', summary: 'Mark a voicemail message read (heard) or unread (new) (unreleased)', body: voicemailMarkSchema },
  { route: '/api/me/voicemail/messages/[id]', method: 'DELETE', summary: 'Move a voicemail message to the trash, kept 30 days (unreleased)' },
  { route: '/api/me/voicemail/messages/[id]/restore', method: 'POST', summary: 'Take a voicemail message out of the trash (unreleased)' },
  { route: '/api/me/voicemail/messages/[id]/audio', method: 'GET', summary: 'A voicemail message’s audio: WAV with byte ranges, or a WAV or MP3 download (unreleased)', query: voicemailAudioQuery, produces: ['audio/wav', 'audio/mpeg'] },
];
