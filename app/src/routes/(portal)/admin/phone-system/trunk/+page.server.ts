import { fail } from '@sveltejs/kit';
import { getTrunk, saveTrunk, trunkForwardingInput, trunkInput, zodFieldErrors, type TrunkView } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { areaEnabled } from '#lib/server/unreleased.ts';
import { actorOf, caller } from '#lib/server/api.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const auth = caller(event);
  // The forwarding setting belongs to the unreleased area 'answering_rules': shown (and sent to the page) only where it is enabled.
  const forwarding = await areaEnabled('answering_rules');
  const stored = await getTrunk((await getRuntime()).db, auth.account.id);
  let trunk: (Omit<TrunkView, 'forwardCallerId'> & { forwardCallerId?: boolean }) | null = stored;
  if (stored && !forwarding) {
    const { forwardCallerId: _hidden, ...rest } = stored;
    trunk = rest;
  }
  return { trunk, canEdit: auth.permissions.has('phone_system.manage'), forwarding };
};

/** The form's fields as the schema wants them: a checkbox is present or absent, addresses one per line. */
function fromForm(form: FormData): Record<string, unknown> {
  const { forwardCallerIdShown: _shown, ...v } = Object.fromEntries(form) as Record<string, string>;
  return {
    ...v,
    enabled: form.has('enabled'),
    // The checkbox counts only where the form showed it; otherwise the stored value stays.
    ...(form.has('forwardCallerIdShown') ? { forwardCallerId: form.has('forwardCallerId') } : { forwardCallerId: undefined }),
    clearPassword: false,
    inboundAddresses: String(v.inboundAddresses ?? '')
      .split(/[\s,]+/)
      .filter(Boolean),
  };
}

export const actions: Actions = {
  default: async (event) => {
    const auth = caller(event);
    const rt = await getRuntime();
    const values = fromForm(await event.request.formData());
    const parsed = ((await areaEnabled('answering_rules')) ? trunkForwardingInput : trunkInput).safeParse(values);
    const { password: _password, ...kept } = values;
    if (!parsed.success) return fail(400, { errors: zodFieldErrors(parsed.error), values: kept });
    await saveTrunk(rt.db, rt.secrets, auth.account.id, actorOf(event), parsed.data);
    return { saved: true };
  },
};
