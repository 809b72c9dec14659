import { createResponse, type SipRequest, type SipResponse } from '../sip/message/index.ts';
import { formatUri } from '../sip/message/sip-uri.ts';
import type { DigestAuthority } from '../sip/auth/digest-challenge.ts';
import { authenticateDevice, namesDeviceExtension } from './device-authentication.ts';
import type { FailureThrottle } from './auth-throttle.ts';
import { BindingStore, type Binding } from './binding-store.ts';
import type { CredentialSource } from './credential-cache.ts';

/** How a request reached us, as the transport layer reports it. */
export interface RequestSource {
  transport: string;
  remoteAddress: string;
  remotePort: number;
  connectionId?: string | undefined;
}

export interface RegistrarSettings {
  minExpires: number;
  maxExpires: number;
  defaultExpires: number;
  nodeId: string;
}

export interface RegistrarEvents {
  onRegistered?(b: { accountId: string; extensionId: string; deviceId: string; bindings: number }): void;
  /** Any change of an extension's bindings (presence: online or offline). */
  onBindingsChanged?(b: { accountId: string; extensionId: string }): void;
}

/**
 * The registrar of RFC 3261 §10.3: authenticates the device by digest, then
 * adds, refreshes or removes its bindings. Each device signs in with its own
 * credentials, and the address of record is its extension, so an extension
 * rings all its devices.
 */
export class Registrar {
  private readonly auth: DigestAuthority;
  private readonly credentials: CredentialSource;
  private readonly store: BindingStore;
  private readonly throttle: FailureThrottle;
  private readonly settings: RegistrarSettings;
  private readonly events: RegistrarEvents;
  /** Bindings that live on a WebSocket of this node, by connection: a browser is reachable on no other. */
  private readonly flows = new Map<string, Map<string, { accountId: string; extensionId: string }>>();

  constructor(deps: {
    auth: DigestAuthority;
    credentials: CredentialSource;
    store: BindingStore;
    throttle: FailureThrottle;
    settings: RegistrarSettings;
    events?: RegistrarEvents;
  }) {
    this.auth = deps.auth;
    this.credentials = deps.credentials;
    this.store = deps.store;
    this.throttle = deps.throttle;
    this.settings = deps.settings;
    this.events = deps.events ?? {};
  }

  async handleRegister(req: SipRequest, source: RequestSource): Promise<SipResponse> {
    const authenticated = await authenticateDevice(req, source.remoteAddress, { auth: this.auth, credentials: this.credentials, throttle: this.throttle });
    if ('response' in authenticated) return authenticated.response;
    const { device, username } = authenticated;

    // The address of record is the device's extension, by number or by the device's own name.
    if (!namesDeviceExtension(req.to()?.uri.user ?? '', device, username)) {
      return createResponse(req, 403, { reason: 'Address Of Record Not Allowed' });
    }

    const contacts = req.contacts();
    const headerExpires = parseExpires(req.get('expires'));
    const now = Date.now();
    if (contacts.some((c) => c.wildcard)) {
      // RFC 3261 §10.3 step 6: "*" only with Expires: 0 and alone.
      if (contacts.length > 1 || headerExpires !== 0) return createResponse(req, 400, { reason: 'Invalid Wildcard' });
      await this.store.removeAll(device.extensionId);
      this.events.onBindingsChanged?.({ accountId: device.accountId, extensionId: device.extensionId });
      return this.ok(req, []);
    }

    const current = await this.store.list(device.extensionId, now);
    const upserts: Binding[] = [];
    const removals: string[] = [];
    for (const c of contacts) {
      const expires = parseExpires(c.params.get('expires') ?? undefined) ?? headerExpires ?? this.settings.defaultExpires;
      if (expires > 0 && expires < this.settings.minExpires) {
        const res = createResponse(req, 423);
        res.set('min-expires', this.settings.minExpires);
        return res;
      }
      const contact = formatUri(c.uri);
      const instance = c.params.get('+sip.instance') ?? null;
      const field = BindingStore.fieldOf({ contact, instance });
      const existing = current.find((b) => BindingStore.fieldOf(b) === field);
      // §10.3 step 7: an older or repeated CSeq from the same Call-ID is out of order.
      if (existing && existing.callId === req.callId && existing.cseq >= req.cseq.seq) {
        return createResponse(req, 500, { reason: 'Out Of Order' });
      }
      if (expires === 0) {
        removals.push(field);
        continue;
      }
      upserts.push({
        contact,
        expiresAt: now + Math.min(expires, this.settings.maxExpires) * 1000,
        callId: req.callId,
        cseq: req.cseq.seq,
        deviceId: device.deviceId,
        source: {
          transport: source.transport,
          address: source.remoteAddress,
          port: source.remotePort,
          connectionId: source.connectionId,
          nodeId: this.settings.nodeId,
        },
        userAgent: req.get('user-agent') ?? null,
        instance,
      });
    }
    // A device that registers from a new Call-ID without +sip.instance has rebooted or moved (a new
    // NAT port, say): its bindings from before are dead ends that every call would still fork to.
    for (const u of upserts) {
      if (u.instance !== null) continue;
      for (const b of current) {
        const field = BindingStore.fieldOf(b);
        if (b.deviceId === u.deviceId && b.instance === null && b.callId !== u.callId && !removals.includes(field) && !upserts.some((x) => BindingStore.fieldOf(x) === field)) removals.push(field);
      }
    }
    if (upserts.length || removals.length) await this.store.apply(device.extensionId, upserts, removals);
    for (const u of upserts) {
      const id = u.source.connectionId;
      if (id === undefined || (u.source.transport !== 'WS' && u.source.transport !== 'WSS')) continue;
      let flow = this.flows.get(id);
      if (!flow) this.flows.set(id, (flow = new Map()));
      flow.set(`${device.extensionId} ${BindingStore.fieldOf(u)}`, { accountId: device.accountId, extensionId: device.extensionId });
    }
    // A refresh of a known binding changes nothing anyone sees; a new or removed one does.
    if (removals.length || upserts.some((u) => !current.some((b) => BindingStore.fieldOf(b) === BindingStore.fieldOf(u)))) {
      this.events.onBindingsChanged?.({ accountId: device.accountId, extensionId: device.extensionId });
    }
    const bindings = contacts.length
      ? [...current.filter((b) => !removals.includes(BindingStore.fieldOf(b)) && !upserts.some((u) => BindingStore.fieldOf(u) === BindingStore.fieldOf(b))), ...upserts]
      : current;
    if (upserts.length) this.events.onRegistered?.({ accountId: device.accountId, extensionId: device.extensionId, deviceId: device.deviceId, bindings: bindings.length });
    return this.ok(req, bindings, now);
  }

  /**
   * A browser's WebSocket closed: its bindings on that connection are dead
   * (RFC 5626 §5.3; a browser accepts no other way in), so they go now rather
   * than at expiry, and its colleagues see it offline. If it comes back, it
   * registers again on its new connection.
   */
  async connectionClosed(connectionId: string): Promise<void> {
    const flow = this.flows.get(connectionId);
    if (!flow) return;
    this.flows.delete(connectionId);
    for (const [key, { accountId, extensionId }] of flow) {
      const field = key.slice(extensionId.length + 1);
      const current = await this.store.list(extensionId);
      // Only if the binding still points at this connection (it may have re-registered on a new one already).
      if (!current.some((b) => BindingStore.fieldOf(b) === field && b.source.connectionId === connectionId)) continue;
      await this.store.apply(extensionId, [], [field]);
      this.events.onBindingsChanged?.({ accountId, extensionId });
    }
  }

  private ok(req: SipRequest, bindings: Binding[], now = Date.now()): SipResponse {
    const res = createResponse(req, 200);
    for (const b of bindings) res.add('contact', `<${b.contact}>;expires=${Math.max(0, Math.round((b.expiresAt - now) / 1000))}`);
    res.add('date', new Date(now).toUTCString());
    return res;
  }
}

function parseExpires(v: string | undefined): number | null {
  if (v === undefined || !/^\s*[0-9]{1,10}\s*$/.test(v)) return null;
  return Number(v);
}
