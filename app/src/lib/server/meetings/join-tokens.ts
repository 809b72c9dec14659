import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';

/**
 * Proof that a user passed a meeting's passcode check (or is its host): given by
 * `POST /api/meetings/[number]/join`, presented by the browser's `meeting:join` socket event. It is
 * bound to the user and the meeting, lives a few minutes, and is kept in Redis so that any app node
 * can read it.
 */
const TOKEN_TTL_SECONDS = 600;
const key = (token: string) => `carillon:meetings:join:${token}`;

const grant = z.object({ accountId: z.string().uuid(), userId: z.string().uuid(), meetingId: z.string().uuid(), host: z.boolean() });
export type MeetingJoinGrant = z.infer<typeof grant>;

export async function issueJoinToken(redis: Redis, g: MeetingJoinGrant): Promise<string> {
  const token = randomBytes(24).toString('base64url');
  await redis.set(key(token), JSON.stringify(g), 'EX', TOKEN_TTL_SECONDS);
  return token;
}

/** The grant of `token` if it is this user's; null when unknown, expired or another user's. */
export async function readJoinToken(redis: Redis, token: string, accountId: string, userId: string): Promise<MeetingJoinGrant | null> {
  if (!/^[A-Za-z0-9_-]{32}$/.test(token)) return null;
  const raw = await redis.get(key(token));
  if (!raw) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return null;
  }
  const g = grant.safeParse(parsed);
  return g.success && g.data.accountId === accountId && g.data.userId === userId ? g.data : null;
}
