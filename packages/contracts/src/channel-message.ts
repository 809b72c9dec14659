import type { z } from 'zod';

/** A Redis channel message parsed by its schema, or null when it is not one (never trusted further than its shape). */
export function parseChannelMessage<T extends z.ZodType>(schema: T, message: string): z.infer<T> | null {
  try {
    const parsed = schema.safeParse(JSON.parse(message));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
