import { loginIdentity, type LoginIdentity } from '@carillon/core';

/** Reads "email or phone number" the way the sign-in page asks for it (seed 000 "Accès à votre compte"). */
export function identityFromForm(form: FormData): LoginIdentity | null {
  const identifier = String(form.get('identifier') ?? '').trim();
  const candidate = identifier.includes('@')
    ? { kind: 'email', email: identifier }
    : { kind: 'phone', country: String(form.get('country') ?? 'US'), number: identifier, extension: String(form.get('extension') ?? '') };
  const parsed = loginIdentity.safeParse(candidate);
  return parsed.success ? parsed.data : null;
}
