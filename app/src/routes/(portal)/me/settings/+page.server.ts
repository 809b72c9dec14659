import { timeZones } from '@carillon/domain';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { getUserDetails } from '#lib/server/users/user-settings.ts';
import { callerIdChoices } from '#lib/server/me/self-settings.ts';
import type { PageServerLoad } from './$types';

/** My Extension › Settings: the page reads here; every change goes through /api/me (and its password and PIN routes). */
export const load: PageServerLoad = async (event) => {
  const auth = caller(event);
  const db = (await getRuntime()).db;
  const me = await getUserDetails(db, auth.account.id, auth.user.id);
  if (!me) throw new Error('the signed-in user has no details');
  const shown = new Set(Object.values(me.callerId.byPhone));
  return {
    language: auth.user.language,
    accountLanguage: auth.account.language,
    email: me.email,
    timeZone: me.regional.timeZone,
    timeZones: timeZones(),
    notificationEmail: me.notificationEmail,
    hasPhone: me.phones.length > 0,
    // The number every phone of the user shows, when they agree.
    callerIdNumberId: shown.size === 1 ? ([...shown][0] ?? '') : '',
    callerIdChoices: await callerIdChoices(db, auth.account.id, me.extensionId),
  };
};
