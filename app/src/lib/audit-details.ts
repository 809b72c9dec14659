/**
 * An audit entry's before/after as lines a person reads: `field: value`, nested sections as
 * `section › field`, lists joined by commas, ISO instants in the reader's zone and language.
 */
export interface AuditLine {
  field: string;
  value: string;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

export function auditLines(raw: unknown, formatInstant: (iso: string) => string, empty = '—'): AuditLine[] {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
  }
  if (value === null || value === undefined) return [];
  const lines: AuditLine[] = [];
  const scalar = (v: unknown): string => {
    if (v === null || v === undefined || v === '') return empty;
    if (typeof v === 'string') return ISO_INSTANT.test(v) ? formatInstant(v) : v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    if (Array.isArray(v)) return v.length ? v.map(scalar).join(', ') : empty;
    return JSON.stringify(v);
  };
  const walk = (v: unknown, path: string[]) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const entries = Object.entries(v);
      if (entries.length === 0) lines.push({ field: path.join(' › '), value: empty });
      for (const [k, inner] of entries) walk(inner, [...path, k]);
    } else if (Array.isArray(v) && v.some((x) => x && typeof x === 'object')) {
      v.forEach((x, i) => walk(x, [...path, String(i + 1)]));
    } else {
      lines.push({ field: path.join(' › '), value: scalar(v) });
    }
  };
  if (typeof value === 'object') walk(value, []);
  else lines.push({ field: '', value: scalar(value) });
  return lines;
}
