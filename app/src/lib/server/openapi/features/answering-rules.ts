import { userAnsweringSchema } from '@carillon/domain';
import type { Operation } from '../operations.ts';
import { greetingUploadQuery, nameRecordingUploadQuery } from '@carillon/core/voicemail';

const GREETING_AUDIO = ['audio/wav', 'audio/mpeg', 'application/octet-stream'];

/** Answering rules (issue 13). Unreleased: these answer 404 unless ENABLE_UNRELEASED names `answering_rules`. */
export const answeringRulesOperations: Operation[] = [
  { route: '/api/me/answering-rules', method: 'GET', summary: 'The signed-in user’s hours, answering rules and call settings (unreleased)' },
  { route: '/api/me/answering-rules', method: 'PUT', summary: 'Replace the signed-in user’s hours, answering rules and call settings (unreleased)', body: userAnsweringSchema },
  { route: '/api/users/[id]/answering-rules', method: 'GET', summary: 'A user’s hours, answering rules and call settings (unreleased)' },
  { route: '/api/users/[id]/answering-rules', method: 'PUT', summary: 'Replace a user’s hours, answering rules and call settings (unreleased)', body: userAnsweringSchema },
  { route: '/api/me/answering-rules/greetings/[rule]', method: 'GET', summary: 'The audio of the signed-in user’s custom voicemail greeting of a rule (in_hours, after_hours or a custom rule id); 404 while it plays the default (unreleased)', produces: ['audio/wav'] },
  { route: '/api/me/answering-rules/greetings/[rule]', method: 'PUT', summary: 'Set the voicemail greeting of one of the signed-in user’s rules: the body is the WAV or MP3 file (at most 10 MB, 3 minutes), converted once (unreleased)', query: greetingUploadQuery, accepts: GREETING_AUDIO },
  { route: '/api/me/answering-rules/greetings/[rule]', method: 'DELETE', summary: 'Reset one of the signed-in user’s rules to the default voicemail greeting (unreleased)' },
  { route: '/api/users/[id]/answering-rules/greetings/[rule]', method: 'GET', summary: 'The audio of a user’s custom voicemail greeting of a rule; 404 while it plays the default (unreleased)', produces: ['audio/wav'] },
  { route: '/api/users/[id]/answering-rules/greetings/[rule]', method: 'PUT', summary: 'Set the voicemail greeting of one of a user’s rules: the body is the WAV or MP3 file (at most 10 MB, 3 minutes), converted once (unreleased)', query: greetingUploadQuery, accepts: GREETING_AUDIO },
  { route: '/api/users/[id]/answering-rules/greetings/[rule]', method: 'DELETE', summary: 'Reset one of a user’s rules to the default voicemail greeting (unreleased)' },
  { route: '/api/me/name-recording', method: 'GET', summary: 'The audio of the signed-in user’s recorded name (played by the default voicemail greeting and the dial-by-name directory); 404 while there is none (unreleased)', produces: ['audio/wav'] },
  { route: '/api/me/name-recording', method: 'PUT', summary: 'Set the signed-in user’s recorded name: the body is the WAV or MP3 file (at most 4 MB, 10 seconds, not silent), converted once (unreleased)', query: nameRecordingUploadQuery, accepts: GREETING_AUDIO },
  { route: '/api/me/name-recording', method: 'DELETE', summary: 'Remove the signed-in user’s recorded name: text-to-speech says the name again (unreleased)' },
  { route: '/api/users/[id]/name-recording', method: 'GET', summary: 'The audio of a user’s recorded name; 404 while there is none (unreleased)', produces: ['audio/wav'] },
  { route: '/api/users/[id]/name-recording', method: 'PUT', summary: 'Set a user’s recorded name: the body is the WAV or MP3 file (at most 4 MB, 10 seconds, not silent), converted once (unreleased)', query: nameRecordingUploadQuery, accepts: GREETING_AUDIO },
  { route: '/api/users/[id]/name-recording', method: 'DELETE', summary: 'Remove a user’s recorded name: text-to-speech says the name again (unreleased)' },
];
