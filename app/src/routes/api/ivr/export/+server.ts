import { exportIvrXml, listCompanyRules, loadIvrConfig } from '@carillon/core/ivr';
import { getRuntime } from '#lib/server/runtime.ts';
import { caller } from '#lib/server/api.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/** IVR-23: the current configuration as IVR XML (packages/core/src/ivr/xml/ivr.xsd), the company's custom answering rules with it. */
export const GET: RequestHandler = inArea('ivr', async (event) => {
  const db = (await getRuntime()).db;
  const accountId = caller(event).account.id;
  const xml = exportIvrXml(await loadIvrConfig(db, accountId), await listCompanyRules(db, accountId));
  return new Response(xml, { headers: { 'content-type': 'application/xml; charset=utf-8', 'content-disposition': 'attachment; filename="ivr.xml"' } });
});
