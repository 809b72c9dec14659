import { listSharedLines } from '@carillon/core';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller, isUuid } from '#lib/server/api.ts';
import { requireArea } from '#lib/server/unreleased.ts';
import { listSites } from '#lib/server/sites/sites.ts';
import type { PageServerLoad } from './$types';

/** Phone System › Shared Lines (SL-02 list, filter: Sites); hidden while the `shared_lines` area is unreleased. Changes go through /api/shared-lines. */
export const load: PageServerLoad = async (event) => {
  await requireArea('shared_lines');
  const auth = caller(event);
  const db = (await getRuntime()).db;
  const site = event.url.searchParams.get('siteId');
  const siteId = site && isUuid(site) ? site : '';
  const [lines, sites] = await Promise.all([listSharedLines(db, auth.account.id, siteId ? { siteId } : {}), listSites(db, auth.account.id)]);
  return {
    canEdit: auth.permissions.has('phone_system.manage'),
    siteId,
    sites: sites.map((s) => ({ id: s.id, name: s.name })),
    lines: lines.map((l) => ({ id: l.id, number: l.number, name: l.name ?? l.number, enabled: l.enabled, siteId: l.siteId, devices: l.devices.length })),
  };
};
