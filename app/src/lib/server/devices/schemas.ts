import { z } from 'zod';

/** Body of POST /api/devices/[id]/assign: the extension that gets the phone. */
export const deviceAssignInput = z.object({ extensionId: z.uuid('required') }).strict();
