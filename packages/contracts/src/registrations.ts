/**
 * Registrations as media-server keeps them in Redis, one hash per extension
 * (field: the contact or +sip.instance, value: a JSON Binding). media-server
 * writes them; the app reads them for presence.
 */

/** Where a registered device can be reached (RFC 3261 §10): one binding per contact. */
export interface Binding {
  /** The Contact URI, as the device sent it. */
  contact: string;
  expiresAt: number;
  callId: string;
  cseq: number;
  deviceId: string;
  /** How the REGISTER arrived: requests to this device go back the same way (connection reuse, NAT). */
  source: { transport: string; address: string; port: number; connectionId?: string | undefined; nodeId: string };
  userAgent: string | null;
  /** RFC 5626 +sip.instance, when the device sends one: a re-registration from a new address replaces its old binding. */
  instance: string | null;
}

/** An extension's bindings hash as Redis returns it: the live bindings, and the fields expired or unreadable. */
export function readBindings(raw: Record<string, string>, now = Date.now()): { live: Binding[]; dead: string[] } {
  const live: Binding[] = [];
  const dead: string[] = [];
  for (const [field, json] of Object.entries(raw)) {
    try {
      const b = JSON.parse(json) as Binding;
      if (b.expiresAt > now) live.push(b);
      else dead.push(field);
    } catch {
      dead.push(field);
    }
  }
  return { live, dead };
}

/** Redis key prefix of an extension's bindings hash (the app reads it for presence). */
export const BINDING_KEY_PREFIX = 'carillon:reg:';
