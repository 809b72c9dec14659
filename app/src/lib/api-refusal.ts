import type { MessageKey, Translate } from './i18n/index.ts';

/** A refusal as the JSON API answers it (`readJson` and the routes' own errors). */
interface Refusal {
  error?: string;
  detail?: string;
  fields?: Record<string, string>;
}

/**
 * An API refusal in the reader's words, for the pages that call the API from the browser: the feature's
 * sentence for a known error code (`<feature>.error.<code>`), else the fields the server named, else the
 * code itself; all inside the feature's "Not saved: {reason}".
 */
export async function refusalText(res: Response, t: Translate, feature: 'callQueues.admin' | 'paging' | 'sharedLines' | 'monitoring' | 'park' | 'pickup'): Promise<string> {
  const body = (await res.json().catch(() => ({}))) as Refusal;
  const detail = body.detail?.replace(/^[a-z_]+: /, '') ?? '';
  const known = body.error ? (`${feature}.error.${body.error}` as MessageKey) : null;
  let reason: string;
  if (known && t(known) !== known) reason = t(known, { detail });
  else if (body.fields) reason = Object.entries(body.fields).map(([field, message]) => `${field}: ${message}`).join('; ');
  else reason = body.error ? `${body.error}${detail ? ` (${detail})` : ''}` : `HTTP ${res.status}`;
  return t(`${feature}.error` as MessageKey, { reason });
}
