import { hash, verify } from '@node-rs/argon2';

/**
 * argon2id for every secret a person chooses (password, PIN, security answer).
 * Parameters follow OWASP's argon2id baseline (19 MiB, 2 passes).
 */
// algorithm 2 is Argon2id in @node-rs/argon2's (const, hence not importable) Algorithm enum.
const OPTIONS = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export const hashSecret = (secret: string): Promise<string> => hash(secret, OPTIONS);

export async function verifySecret(stored: string | null | undefined, secret: string): Promise<boolean> {
  if (!stored) return false;
  try {
    return await verify(stored, secret);
  } catch {
    return false;
  }
}

/** A hash to verify against when the user does not exist, so timing does not reveal who has an account. */
let dummy: Promise<string> | undefined;
export const dummyHash = () => (dummy ??= hashSecret('carillon-no-such-user'));
