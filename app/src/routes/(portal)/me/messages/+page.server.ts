import { areaEnabled } from '#lib/server/unreleased.ts';
import type { PageServerLoad } from './$types';

/** My Extension › Messages: the faxes, the texts and the voicemail while their unreleased areas ('sms', 'voicemail') are enabled. */
export const load: PageServerLoad = async () => ({ smsEnabled: await areaEnabled('sms'), voicemailEnabled: await areaEnabled('voicemail') });
