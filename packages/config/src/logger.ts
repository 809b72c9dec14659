/**
 * A small structured logger shared by every process. Secrets must never reach
 * the logs, so every field goes through `redact` before it is written: keys that
 * name a secret are replaced whatever their value, and URLs lose their password.
 */
type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const SECRET_KEY = /password|passwd|secret|token|answer|authorization|cookie|ha1|credential/i;
// "pin", "pinHash", "new_pin", "confirmPin", but not "shipping" or "spinner".
const PIN_KEY = /(^|_|[a-z])(pin|Pin|PIN)(_|$|[A-Z])/;
const isSecretKey = (k: string) => SECRET_KEY.test(k) || PIN_KEY.test(k);

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[deep]';
  if (typeof value === 'string') return value.replace(/(\w+:\/\/[^:/\s]+:)[^@\s]+@/g, '$1***@');
  if (value instanceof Error) return { name: value.name, message: redact(value.message, depth + 1) };
  // A Date has no own enumerable keys: walked as an object it would become {} (seen as `"expiresAt":{}` in the audit trail).
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) ? '[redacted]' : redact(v, depth + 1);
    return out;
  }
  return value;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

export function createLogger(
  component: string,
  level: Level = (process.env.LOG_LEVEL as Level | undefined) ?? 'info',
  write: (line: string) => void = (line) => process.stdout.write(line + '\n'),
): Logger {
  const min = order[level] ?? order.info;
  const emit = (lvl: Level, msg: string, fields?: Record<string, unknown>) => {
    if (order[lvl] < min) return;
    const entry = { t: new Date().toISOString(), level: lvl, component, msg: redact(msg), ...(redact(fields ?? {}) as object) };
    write(JSON.stringify(entry));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (sub) => createLogger(`${component}/${sub}`, level, write),
  };
}
