import { z } from 'zod';

/** PATCH /api/users/{id}: the fields an admin may change on a user (others come with their own screens). */
export const userPatch = z
  .object({
    firstName: z.string().trim().min(1).max(60),
    lastName: z.string().trim().max(60),
    language: z.enum(['en', 'fr']).nullable(),
  })
  .partial()
  .strict();
