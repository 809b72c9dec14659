import { z } from 'zod';
import { DND_STATUSES } from '@carillon/db';
import { userSettingsPatch } from '#lib/server/users/user-settings.ts';

/**
 * PATCH /api/me: the signed-in user's own settings (My Extension › Settings). The fields are the
 * very schemas of the user details page; the caller ID is one of the user's own numbers or a
 * company number, shown by every phone of the user.
 */
const own = userSettingsPatch.shape;
export const mePatch = z
  .object({
    /** null follows the account's language. */
    language: own.language,
    timeZone: own.timeZone,
    notificationEmail: own.notificationEmail,
    callerIdNumberId: z.uuid(),
  })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'nothing to change', path: ['_'] })
  .meta({ minProperties: 1 });
export type MePatch = z.output<typeof mePatch>;

/** POST /api/me/password: the current password proves it is the user; the new one follows the usual rules. */
export const passwordChange = z.object({ currentPassword: z.string().min(1).max(200), newPassword: z.string().max(200), newPasswordConfirm: z.string().max(200) }).strict();

/** PUT /api/me/voicemail-pin: the mailbox PIN, digits only (rules of credential-rules.ts). */
export const voicemailPinInput = z.object({ pin: z.string().max(50), pinConfirm: z.string().max(50) }).strict();

/** PUT /api/me/dnd (seed 000 "Ne pas déranger"). */
export const dndInput = z.object({ dnd: z.enum(DND_STATUSES) }).strict();
