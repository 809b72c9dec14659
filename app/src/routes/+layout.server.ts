import { UTC_REGIONAL } from '@carillon/domain';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = ({ locals }) => {
  const auth = locals.auth;
  const regional = auth
    ? { lang: locals.lang, timeZone: auth.user.time_zone ?? auth.account.time_zone, timeFormat: auth.user.time_format ?? auth.account.time_format }
    : UTC_REGIONAL(locals.lang);
  return { lang: locals.lang, regional };
};
