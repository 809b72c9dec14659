import { z } from 'zod';

/**
 * Account configuration that media-server caches (routing settings of the
 * account, carriers' trunks, device credentials) changes in the app: the
 * change is published here once it is committed, and every node drops what it
 * cached of it, so the very next call or REGISTER reads the new value instead
 * of waiting out a cache's TTL. The TTLs stay, as a ceiling for a lost message.
 */
export const CONFIG_CHANGES_CHANNEL = 'carillon:config-changes';

/** What changed. `account`: country, main number, company name; `numbers` may move the main number too. */
export const CONFIG_SUBJECTS = ['account', 'trunks', 'devices', 'extensions', 'numbers'] as const;
export type ConfigSubject = (typeof CONFIG_SUBJECTS)[number];

export const configChange = z.object({ accountId: z.string().uuid(), subjects: z.array(z.enum(CONFIG_SUBJECTS)).min(1) });
export type ConfigChange = z.infer<typeof configChange>;

export function parseConfigChange(message: string): ConfigChange | null {
  try {
    const parsed = configChange.safeParse(JSON.parse(message));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
