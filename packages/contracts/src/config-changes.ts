import { z } from 'zod';
import { parseChannelMessage } from './channel-message.ts';

/**
 * Account configuration that media-server caches (routing settings of the
 * account, carriers' trunks, device credentials) changes in the app: the
 * change is published here once it is committed, and every node drops what it
 * cached of it, so the very next call or REGISTER reads the new value instead
 * of waiting out a cache's TTL. The TTLs stay, as a ceiling for a lost message.
 */
export const CONFIG_CHANGES_CHANNEL = 'carillon:config-changes';

/**
 * What changed. `account`: country, main number, company name, recording settings; `numbers` may move the main
 * number too; `users`: a user's name, role, calling rights or phones' caller ID, and a role's permissions; `sites`:
 * site codes (how extensions are dialled in full); `answering_rules`: a user's answering rules and call settings
 * (issue 13); `ivr`: IVR menus, their settings or prompts (issue 14); `queues`: call queues' settings and members (issue 15).
 * media-server rebuilds an account's routing snapshot on any of them.
 */
export const CONFIG_SUBJECTS = ['account', 'trunks', 'devices', 'extensions', 'numbers', 'users', 'sites', 'answering_rules', 'ivr', 'queues'] as const;
export type ConfigSubject = (typeof CONFIG_SUBJECTS)[number];

export const configChange = z.object({ accountId: z.string().uuid(), subjects: z.array(z.enum(CONFIG_SUBJECTS)).min(1) });
export type ConfigChange = z.infer<typeof configChange>;

export const parseConfigChange = (message: string): ConfigChange | null => parseChannelMessage(configChange, message);
