import { z } from 'zod';
import { companyRuleInput, ivrSettingsChange } from '@carillon/domain';
import { companyHoursInput, companyRuleMove, directoryInput, menuPatch, newMenuInput, ttsPromptInput } from '@carillon/core/ivr';
import { importQuery, promptListQuery, sampleQuery, validateMenusInput } from '../../ivr/ivr.ts';
import type { Operation } from '../operations.ts';

const binary = z.string().meta({ format: 'binary' });

/** The IVR's operations (issue 14), with the schemas its routes validate with. */
export const ivrOperations: readonly Operation[] = [
  { route: '/api/ivr', method: 'GET', summary: 'The IVR configuration (settings, menus) with its validation issues, the extensions dialable during a prompt and those single-level call handling can send calls to' },
  { route: '/api/ivr/settings', method: 'PUT', summary: 'Save the IVR settings: mode, top menus, company hours (AR-03), generic keys, no-input action, zero dialing, operator, single-level company call handling (AR-01); hours, directory and single-level handling left out keep what is stored', body: ivrSettingsChange },
  { route: '/api/ivr/hours', method: 'GET', summary: 'The company hours (AR-03) and the account time zone they are read in' },
  { route: '/api/ivr/hours', method: 'PUT', summary: 'Save the company hours: 24 hours, or ranges per week day (in order, not overlapping, at least one day)', body: companyHoursInput },
  { route: '/api/ivr/directory', method: 'GET', summary: 'The dial-by-name directory settings (AR-04) and the users it can list' },
  { route: '/api/ivr/directory', method: 'PUT', summary: 'Save the dial-by-name directory settings: search by first or last name, the extensions searched (null: all)', body: directoryInput },
  { route: '/api/ivr/custom-rules', method: 'GET', summary: 'The company custom answering rules (RULE-06) in the order they are tried, the menus, extensions and numbers a rule can name, and the rules’ validation issues' },
  {
    route: '/api/ivr/custom-rules',
    method: 'POST',
    summary: 'Add a custom answering rule, last in the list (at most 50): name, enabled, conditions (caller ID, called number, dates, weekly schedule; all must hold), target (a top-level menu or an extension)',
    body: companyRuleInput,
    status: 201,
  },
  { route: '/api/ivr/custom-rules/[id]', method: 'PUT', summary: 'Replace a custom answering rule in its place (edit, enable or disable it)', body: companyRuleInput },
  { route: '/api/ivr/custom-rules/[id]', method: 'DELETE', summary: 'Delete a custom answering rule; the rules after it move up', status: 204 },
  { route: '/api/ivr/custom-rules/[id]/move', method: 'POST', summary: 'Move a custom answering rule to another place in the order (1 first)', body: companyRuleMove },
  { route: '/api/ivr/menus', method: 'GET', summary: 'IVR menus' },
  { route: '/api/ivr/menus', method: 'POST', summary: 'Add an IVR menu (a new extension)', body: newMenuInput, status: 201 },
  { route: '/api/ivr/menus/[id]', method: 'GET', summary: 'An IVR menu' },
  { route: '/api/ivr/menus/[id]', method: 'PATCH', summary: 'Change an IVR menu: number, name, language, prompt, keys, generic keys', body: menuPatch },
  { route: '/api/ivr/menus/[id]', method: 'DELETE', summary: 'Delete an IVR menu and its extension', status: 204 },
  { route: '/api/ivr/menus/[id]/prompt', method: 'GET', summary: 'The audio of a menu’s prompt, as callers hear it', produces: ['audio/wav'] },
  { route: '/api/ivr/validate', method: 'POST', summary: 'Validate the IVR configuration (missing prompts, deleted extensions, unreachable menus, loops, empty menus); with a JSON body `{menus}`, those menus (unsaved) with the stored settings, nothing written', body: validateMenusInput },
  { route: '/api/ivr/export', method: 'GET', summary: 'Export the IVR configuration as XML', produces: ['application/xml'] },
  { route: '/api/ivr/import', method: 'POST', summary: 'Check an IVR XML file (the body); with accept=true, import what is valid', query: importQuery },
  { route: '/api/ivr/sample', method: 'GET', summary: 'A sample IVR XML file (single-level or multi-level)', query: sampleQuery, produces: ['application/xml'] },
  { route: '/api/ivr/greeting', method: 'GET', summary: 'The company greeting as callers hear it (WAV): the default text read aloud, or the prompt chosen', produces: ['audio/wav'] },
  { route: '/api/ivr/greeting', method: 'PUT', summary: "Customize the company greeting: multipart (file: WAV or MP3, or a recording), kept in the prompts library as 'Company greeting'", multipart: z.object({ file: binary }) },
  { route: '/api/ivr/greeting', method: 'DELETE', summary: 'Back to the default company greeting' },
  { route: '/api/ivr/prompts', method: 'GET', summary: 'The prompts library, with the menus using each prompt', query: promptListQuery },
  {
    route: '/api/ivr/prompts',
    method: 'POST',
    summary: 'Add a prompt: JSON for text-to-speech, or multipart (name, file: WAV or MP3) for audio',
    body: ttsPromptInput,
    multipart: z.object({ name: z.string(), file: binary }),
    status: 201,
  },
  {
    route: '/api/ivr/prompts/bulk',
    method: 'POST',
    summary: 'Import many audio prompts at once: multipart with up to 50 `files` (WAV or MP3, each at most 10 MB), each named from its file name (made unique); a report line per file: imported, or refused with its reason',
    multipart: z.object({ files: z.array(binary) }),
  },
  { route: '/api/ivr/prompts/[id]', method: 'DELETE', summary: 'Delete a prompt (refused while a menu uses it)', status: 204 },
  { route: '/api/ivr/prompts/[id]/audio', method: 'GET', summary: 'A prompt’s audio', produces: ['audio/wav'] },
];
