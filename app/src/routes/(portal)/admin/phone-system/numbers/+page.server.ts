import { fail } from '@sveltejs/kit';
import {
  addForwardedNumber,
  forwardedNumberInput,
  getNumber,
  listNumbers,
  numberListQuery,
  numberQuota,
  numberUpdateInput,
  poolSearchInput,
  purchaseInput,
  purchaseNumbers,
  releaseNumbers,
  reserveNumbers,
  updateNumber,
  zodFieldErrors,
  type NumberResult,
  type PoolNumber,
} from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, isUuid } from '#lib/server/api.ts';
import { numberProvider } from '#lib/server/numbers/numbers-api.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const auth = caller(event);
  const db = (await getRuntime()).db;
  const params = event.url.searchParams;
  const query = numberListQuery.safeParse({ view: params.get('view') ?? undefined, q: params.get('q') || undefined });
  const q = query.success ? query.data : { view: 'all' as const };
  const canManage = auth.permissions.has('numbers.manage');
  const provider = numberProvider(db);
  let pool: PoolNumber[] | null = null;
  if (canManage && params.has('country')) {
    const search = poolSearchInput.safeParse({ country: params.get('country'), areaCode: params.get('areaCode') ?? undefined, kind: params.get('kind') ?? undefined });
    if (search.success) pool = await provider.search(auth.account.id, search.data);
  }
  const editId = params.get('edit') ?? '';
  const extensions = await db
    .selectFrom('extensions')
    .leftJoin('users', 'users.extension_id', 'extensions.id')
    .select(['extensions.id', 'extensions.number', 'extensions.name', 'users.first_name', 'users.last_name'])
    .where('extensions.account_id', '=', auth.account.id)
    .orderBy('extensions.number')
    .execute();
  return {
    view: q.view,
    q: q.q ?? '',
    numbers: await listNumbers(db, auth.account.id, q),
    editing: isUuid(editId) ? await getNumber(db, auth.account.id, editId) : null,
    canManage,
    pool,
    poolQuery: { country: params.get('country') ?? 'US', areaCode: params.get('areaCode') ?? '', kind: params.get('kind') ?? 'local' },
    reservations: canManage ? (await provider.reservations(auth.account.id)).map((r) => ({ e164: r.e164, expiresAt: r.expiresAt.toISOString() })) : [],
    quota: await numberQuota(db, auth.account.id),
    extensions: extensions.map((e) => ({ id: e.id, label: `${e.number} ${e.first_name ?? ''} ${e.last_name ?? ''}`.trim() + (e.first_name ? '' : e.name ? ` ${e.name}` : '') })),
  };
};

const form = async (request: Request) => Object.fromEntries(await request.formData()) as Record<string, string>;
const refused = (r: Extract<NumberResult<unknown>, { ok: false }>) => fail(r.status, { errors: { _form: r.error, ...(r.fields ?? {}) } });

export const actions: Actions = {
  reserve: async (event) => {
    const db = (await getRuntime()).db;
    const v = await form(event.request);
    const r = await reserveNumbers(db, numberProvider(db), actorOf(event), caller(event).account.id, [v.number ?? '']);
    return r.ok ? { reserved: true } : refused(r);
  },
  release: async (event) => {
    const db = (await getRuntime()).db;
    const v = await form(event.request);
    await releaseNumbers(db, numberProvider(db), actorOf(event), caller(event).account.id, [v.number ?? '']);
    return { released: true };
  },
  purchase: async (event) => {
    const auth = caller(event);
    const db = (await getRuntime()).db;
    const v = await form(event.request);
    const held = await numberProvider(db).reservations(auth.account.id);
    const parsed = purchaseInput.safeParse({ numbers: held.map((h) => h.e164), extensionId: v.extensionId || null, nickname: v.nickname ?? '' });
    if (!parsed.success) return fail(400, { errors: zodFieldErrors(parsed.error), values: v });
    const r = await purchaseNumbers(db, numberProvider(db), actorOf(event), auth.account.id, parsed.data);
    return r.ok ? { acquired: r.value.length } : refused(r);
  },
  save: async (event) => {
    const auth = caller(event);
    const db = (await getRuntime()).db;
    const v = await form(event.request);
    if (!isUuid(v.id ?? '')) return fail(404, { errors: { _form: 'notFound' } });
    const parsed = numberUpdateInput.safeParse({ nickname: v.nickname ?? '', extensionId: v.extensionId || null, faxCapable: v.faxCapable === 'on', ...(v.type ? { type: v.type } : {}) });
    if (!parsed.success) return fail(400, { errors: zodFieldErrors(parsed.error), values: v });
    const r = await updateNumber(db, actorOf(event), auth.account.id, v.id!, parsed.data);
    return r.ok ? { saved: true } : refused(r);
  },
  forward: async (event) => {
    const db = (await getRuntime()).db;
    const v = await form(event.request);
    const parsed = forwardedNumberInput.safeParse({ e164: v.e164 ?? '', extensionId: v.extensionId || null });
    if (!parsed.success) return fail(400, { errors: zodFieldErrors(parsed.error), values: v });
    const r = await addForwardedNumber(db, actorOf(event), caller(event).account.id, parsed.data);
    return r.ok ? { forwarded: true } : refused(r);
  },
};
