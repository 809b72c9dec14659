import { json } from '@sveltejs/kit';
import { CompanyRuleError, conflictingMenuNumbers, importIvrXml, ivrValidationContext, listCompanyRules, replaceIvrConfig } from '@carillon/core/ivr';
import { validateIvr } from '@carillon/domain';
import { getRuntime } from '#lib/server/runtime.ts';
import { actorOf, caller, readQuery } from '#lib/server/api.ts';
import { companyRuleRefusal, importQuery, MAX_IVR_XML_BYTES } from '#lib/server/ivr/ivr.ts';
import { inArea } from '#lib/server/unreleased.ts';
import type { RequestHandler } from './$types';

/**
 * IVR-23's import. The body is the XML file itself. Without `accept=true` nothing is changed: the answer
 * is the report (what could not be read, with lines; the validation issues of what would be imported;
 * the menus whose number another extension holds). With `accept=true` ("Accept and continue"), what is
 * valid replaces the account's IVR configuration and the same report comes back with `applied: true`.
 */
export const POST: RequestHandler = inArea('ivr', async (event) => {
  const query = readQuery(event.url, importQuery);
  if (!query.ok) return query.response;
  const declared = Number(event.request.headers.get('content-length') ?? 0);
  if (declared > MAX_IVR_XML_BYTES) return json({ error: 'file_too_large', maxBytes: MAX_IVR_XML_BYTES }, { status: 413 });
  const bytes = new Uint8Array(await event.request.arrayBuffer());
  if (bytes.length > MAX_IVR_XML_BYTES) return json({ error: 'file_too_large', maxBytes: MAX_IVR_XML_BYTES }, { status: 413 });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return json({ applied: false, problems: [{ line: 1, message: 'the file is not UTF-8 text' }], issues: [], conflicts: [], menus: 0 }, { status: 422 });
  }
  const rt = await getRuntime();
  const accountId = caller(event).account.id;
  const { config, problems } = importIvrXml(text);
  if (!config) return json({ applied: false, problems, issues: [], conflicts: [], menus: 0 }, { status: 422 });
  const conflicts = await conflictingMenuNumbers(rt.db, accountId, config);
  // Validated as it would stand: the file's menus are extensions of the account once imported.
  const ctx = await ivrValidationContext(rt.db, accountId);
  // The file's custom rules when it carries them (named by their place: they have no id yet), else the account's.
  const rules = config.customRules ? config.customRules.map((r, i) => ({ ...r, id: `imported-${i + 1}` })) : await listCompanyRules(rt.db, accountId);
  const issues = validateIvr(config, { ...ctx, extensions: new Set([...ctx.extensions, ...config.menus.map((m) => m.number)]) }, rules);
  const report = { problems, issues, conflicts, menus: config.menus.length - conflicts.length };
  if (query.data.accept !== 'true') return json({ applied: false, ...report });
  try {
    await replaceIvrConfig(rt.db, actorOf(event), accountId, config);
  } catch (err) {
    // A custom rule the rules page would refuse too (a called number that is not the account's): nothing is changed.
    if (err instanceof CompanyRuleError) return companyRuleRefusal(err);
    throw err;
  }
  return json({ applied: true, ...report });
});
