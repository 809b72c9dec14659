import type { AuthenticatedSession } from '@carillon/core';
import type { Db } from '@carillon/db';

export const EMERGENCY_ADDRESS_PAGE = '/me/emergency-address';

/**
 * Seed 000 "Adresse d'urgence manquante": a user added without an emergency
 * address (the admin answered "Yes, continue without") must enter one at
 * first sign-in before anything else. The flag is set by the Add Users
 * wizard; the database is only asked when it is set.
 */
export async function mustEnterEmergencyAddress(db: Db, auth: AuthenticatedSession): Promise<boolean> {
  const raw = auth.user.setup_progress as unknown;
  const progress = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { emergencyAddressRequired?: boolean } | null;
  if (!progress?.emergencyAddressRequired) return false;
  const address = await db.selectFrom('emergency_addresses').select('id').where('account_id', '=', auth.account.id).where('user_id', '=', auth.user.id).executeTakeFirst();
  return !address;
}
