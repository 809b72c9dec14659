import { SESSION_GRACE_SECONDS } from '@carillon/core';
import { ADMIN_TABS, USER_TABS, USERS_SUBTABS, visibleTabs } from '#lib/navigation.ts';
import { caller } from '#lib/server/api.ts';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = async (event) => {
  const auth = caller(event);
  return {
    me: {
      name: `${auth.user.first_name} ${auth.user.last_name}`.trim(),
      extension: auth.extensionNumber,
      company: auth.account.company_name,
      mainNumber: auth.account.main_number,
    },
    adminTabs: visibleTabs(ADMIN_TABS, auth.permissions),
    userTabs: visibleTabs(USER_TABS, auth.permissions),
    usersSubtabs: visibleTabs(USERS_SUBTABS, auth.permissions),
    session: { timeoutMinutes: auth.account.session_timeout_minutes, graceSeconds: SESSION_GRACE_SECONDS },
  };
};
