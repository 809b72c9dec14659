import { redirect } from '@sveltejs/kit';
import { SESSION_GRACE_SECONDS } from '@carillon/core';
import { ADMIN_TABS, PHONE_SYSTEM_SUBTABS, USER_TABS, USERS_SUBTABS, visibleTabs } from '#lib/navigation.ts';
import { caller } from '#lib/server/api.ts';
import { getRuntime } from '#lib/server/runtime.ts';
import { EMERGENCY_ADDRESS_PAGE, mustEnterEmergencyAddress } from '#lib/server/users/emergency-first-login.ts';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = async (event) => {
  const auth = caller(event);
  const enabledAreas = (await getRuntime()).config.ENABLE_UNRELEASED;
  if (event.url.pathname !== EMERGENCY_ADDRESS_PAGE && (await mustEnterEmergencyAddress((await getRuntime()).db, auth))) redirect(303, EMERGENCY_ADDRESS_PAGE);
  return {
    me: {
      name: `${auth.user.first_name} ${auth.user.last_name}`.trim(),
      extension: auth.extensionNumber,
      company: auth.account.company_name,
      mainNumber: auth.account.main_number,
    },
    adminTabs: visibleTabs(ADMIN_TABS, auth.permissions),
    userTabs: visibleTabs(USER_TABS, auth.permissions, enabledAreas),
    usersSubtabs: visibleTabs(USERS_SUBTABS, auth.permissions),
    phoneSystemSubtabs: visibleTabs(PHONE_SYSTEM_SUBTABS, auth.permissions, enabledAreas),
    // The browser softphone registers on every page of the portal, for those who can call from it.
    softphone: auth.permissions.has('self.calls') && Boolean(auth.extensionNumber),
    // The new-voicemail badge, on every page, while the unreleased 'voicemail' area is enabled.
    voicemailBadge: enabledAreas.includes('voicemail') && auth.permissions.has('self.calls'),
    session: { timeoutMinutes: auth.account.session_timeout_minutes, graceSeconds: SESSION_GRACE_SECONDS },
  };
};
