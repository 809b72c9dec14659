import { z } from 'zod';
import { DND_STATUSES } from '@carillon/db';

/** PATCH /api/me: the signed-in user's own language (null follows the account's). */
export const mePatch = z.object({ language: z.enum(['en', 'fr']).nullable() }).strict();

/** PUT /api/me/dnd (seed 000 "Ne pas déranger"). */
export const dndInput = z.object({ dnd: z.enum(DND_STATUSES) }).strict();
