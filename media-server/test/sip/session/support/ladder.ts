import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createLogger } from '@carillon/config';
import { createResponse, SipRequest, type SipMessage, type SipResponse } from '../../../../src/sip/message/index.ts';
import { TransactionLayer, type InviteServerTransaction, type NonInviteServerTransaction } from '../../../../src/sip/transaction/index.ts';
import { ackRoutes, InviteSession, type IncomingOffer, type InviteSessionEvents, type SessionSettings } from '../../../../src/sip/session/index.ts';
import { FakeTransport } from './fake-transport.ts';

/**
 * A recorded SIP ladder, as text: what the peer sends (`peer>`), what we must
 * send (`us>`), what the application does (`do>`), and what the session must
 * tell it (`event>`) or be in (`state>`, `offer-answer>`). See ladders/README.md.
 */
export type Step =
  | { kind: 'peer'; raw: string; line: number }
  | { kind: 'reply'; status: number; method: string; sdp: boolean; line: number }
  | { kind: 'us'; status: number | null; method: string; checks: string[]; line: number }
  | { kind: 'none'; status: number | null; method: string; line: number }
  | { kind: 'do'; action: string; args: string[]; line: number }
  | { kind: 'event'; name: keyof InviteSessionEvents; arg: string | null; line: number }
  | { kind: 'state'; value: string; line: number }
  | { kind: 'offer-answer'; value: string; line: number };

export interface Ladder {
  role: 'uas' | 'uac';
  settings: Partial<SessionSettings>;
  steps: Step[];
}

const STEP = /^(peer|us|none|do|event|state|offer-answer)>\s*(.*)$/;

export const PEER_SDP = [
  'v=0',
  'o=peer 1 1 IN IP4 192.0.2.10',
  's=-',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'm=audio 40000 RTP/AVP 0 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=sendrecv',
  '',
].join('\r\n');

export const OUR_SDP = Buffer.from(PEER_SDP.replace(/peer 1 1/, 'carillon 7 7').replaceAll('192.0.2.10', '192.0.2.1').replace('40000', '20000'));

export function parseLadder(file: string): Ladder {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const ladder: Ladder = { role: 'uas', settings: {}, steps: [] };
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!.trimEnd();
    const n = i + 1;
    i++;
    if (!line || line.startsWith('#')) continue;
    const session = /^session (uas|uac)(.*)$/.exec(line);
    if (session) {
      ladder.role = session[1] as 'uas' | 'uac';
      for (const [, k, v] of session[2]!.matchAll(/(\w+)=(\d+)/g)) (ladder.settings as Record<string, number>)[k!] = Number(v);
      continue;
    }
    const m = STEP.exec(line);
    if (!m) throw new Error(`${file}:${n}: not a step: ${line}`);
    const [, kind, rest] = m as unknown as [string, string, string];
    if (kind === 'peer') {
      const reply = /^reply (\d{3}) (\w+)( sdp)?$/.exec(rest);
      if (reply) {
        ladder.steps.push({ kind: 'reply', status: Number(reply[1]), method: reply[2]!, sdp: !!reply[3], line: n });
        continue;
      }
      // The message runs to the next step (or the end); a blank line separates headers from body.
      const body: string[] = [rest];
      while (i < lines.length && !STEP.test(lines[i]!) && !lines[i]!.startsWith('#')) body.push(lines[i++]!.trimEnd());
      while (body.length && body[body.length - 1] === '') body.pop();
      ladder.steps.push({ kind: 'peer', raw: body.join('\n'), line: n });
    } else if (kind === 'us') {
      const [what, ...checks] = rest.split(' with ');
      const words = what!.trim().split(/\s+/);
      const status = /^\d{3}$/.test(words[0]!) ? Number(words[0]) : null;
      ladder.steps.push({ kind: 'us', status, method: status === null ? words[0]! : words[1]!, checks: checks.map((c) => c.trim()), line: n });
    } else if (kind === 'none') {
      const words = rest.trim().split(/\s+/);
      const status = /^\d{3}$/.test(words[0]!) ? Number(words[0]) : null;
      ladder.steps.push({ kind: 'none', status, method: status === null ? words[0]! : words[1]!, line: n });
    } else if (kind === 'do') {
      const [action, ...args] = rest.split(/\s+/);
      ladder.steps.push({ kind: 'do', action: action!, args, line: n });
    } else if (kind === 'event') {
      const [name, arg] = rest.split(/\s+/);
      ladder.steps.push({ kind: 'event', name: name as keyof InviteSessionEvents, arg: arg ?? null, line: n });
    } else {
      ladder.steps.push({ kind: kind as 'state' | 'offer-answer', value: rest.trim(), line: n });
    }
  }
  return ladder;
}

/** Settings that keep the RFC's ratios with short durations: T2 = 8·T1, a glare unit of 1 ms, a second of 10 ms. */
export const FAST_SESSION = { T1: 50, T2: 400, glareUnitMs: 1, secondMs: 10 };

const quiet = createLogger('ladder', 'error', () => {});

/** Plays a ladder against a real transaction layer and an InviteSession, on a fake transport. */
export async function playLadder(ladder: Ladder, waitMs = 15_000): Promise<{ session: InviteSession; transport: FakeTransport }> {
  const transport = new FakeTransport();
  const layer = new TransactionLayer(transport, { via: { host: '192.0.2.1', ports: { UDP: 5060 } }, timers: { T1: FAST_SESSION.T1, T2: FAST_SESSION.T2, T4: 250, D: 500 }, logger: quiet });
  const settings = { glareUnitMs: FAST_SESSION.glareUnitMs, secondMs: FAST_SESSION.secondMs, ...ladder.settings };
  const callId = `${randomBytes(6).toString('hex')}@ladder`;
  const branches = new Map<string, string>();
  let session: InviteSession | null = null;
  const events: { name: string; args: unknown[] }[] = [];
  const consumed = new Set<number>();
  let wake: (() => void) | null = null;
  const offers: IncomingOffer[] = [];
  let cursor = 0;
  const observe = (s: InviteSession) => {
    for (const name of ['progress', 'accepted', 'offer', 'answer', 'confirmed', 'modified', 'terminated'] as const) {
      s.on(name, (...args: unknown[]) => {
        if (name === 'offer') offers.push(args[0] as IncomingOffer);
        events.push({ name, args });
        wake?.();
      });
    }
    s.on('request', (request: SipRequest, tx: NonInviteServerTransaction | InviteServerTransaction) => {
      tx.respond(createResponse(request, 200));
    });
  };
  layer.onRequest((request, tx) => {
    if (session) {
      session.receiveRequest(request, tx);
      return;
    }
    if (ladder.role !== 'uas' || request.method !== 'INVITE') throw new Error(`unexpected ${request.method}`);
    session = InviteSession.uas({
      invite: request,
      transaction: tx as InviteServerTransaction,
      transactions: layer,
      localContact: '<sip:carillon@192.0.2.1:5060>',
      resolveTarget: () => ({ transport: 'UDP', host: '192.0.2.10', port: 5060 }),
      settings,
      log: quiet,
    });
    observe(session);
  });
  // As media-server routes them: through the ACK routes the session joins while it waits (sip/session/ack-routes.ts).
  layer.onAck((ack) => ackRoutes(layer).route(ack));
  layer.onCancel((_cancel, cancelTx) => session?.acceptCancel(cancelTx));
  layer.onStrayResponse((response) => session?.receiveStrayResponse(response));

  const ourTag = () => {
    const s = session as InviteSession | null;
    return s?.dialog?.state.localTag ?? s?.request?.from()?.params.get('tag') ?? '';
  };
  const fill = (raw: string) => {
    const text = raw
      .replaceAll('{{call_id}}', session?.request && ladder.role === 'uac' ? session.request.callId : callId)
      .replaceAll('{{our_tag}}', ourTag())
      .replace(/\{\{branch:(\w+)\}\}/g, (_m, name: string) => {
        if (!branches.has(name)) branches.set(name, `z9hG4bK${randomBytes(5).toString('hex')}`);
        return branches.get(name)!;
      });
    const [head, ...rest] = text.split('\n\n');
    const body = rest.join('\n\n').replaceAll('{{sdp}}', PEER_SDP);
    const headers = head!.split('\n').filter(Boolean);
    if (body) headers.push('Content-Type: application/sdp');
    headers.push(`Content-Length: ${Buffer.byteLength(body)}`);
    return `${headers.join('\r\n')}\r\n\r\n${body}`;
  };
  const lastSentRequest = (method: string): SipRequest => {
    const found = transport.sent.items.map((r) => r.message).filter((m): m is SipRequest => m.kind === 'request' && m.method === method);
    if (!found.length) throw new Error(`we sent no ${method} to reply to`);
    return found[found.length - 1]!;
  };
  const waitEvent = async (name: string, arg: string | null, line: number) => {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const index = events.findIndex((e, k) => !consumed.has(k) && e.name === name);
      if (index >= 0) {
        consumed.add(index);
        const found = events[index]!;
        if (name === 'terminated' && arg) {
          const reason = (found.args[0] as { reason: string }).reason;
          if (reason !== arg) throw new Error(`line ${line}: terminated with ${reason}, not ${arg}`);
        }
        return found;
      }
      if (Date.now() > deadline) throw new Error(`line ${line}: no ${name} event (saw ${events.map((e) => e.name).join(', ') || 'none'})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  };

  const matches = (step: Extract<Step, { kind: 'us' | 'none' }>) => (m: SipMessage) =>
    step.status === null ? m.kind === 'request' && m.method === step.method : m.kind === 'response' && m.status === step.status && m.cseq.method === step.method;

  for (const step of ladder.steps) {
    switch (step.kind) {
      case 'peer':
        transport.deliver(fill(step.raw));
        break;
      case 'reply': {
        const request = lastSentRequest(step.method);
        const response: SipResponse = createResponse(request, step.status, { toTag: 'peer' });
        if (step.status < 300) response.add('contact', '<sip:peer@192.0.2.10:5060>');
        if (step.sdp) {
          response.add('content-type', 'application/sdp');
          response.body = Buffer.from(PEER_SDP);
        }
        transport.deliverMessage(response);
        break;
      }
      case 'us': {
        // A ladder is ordered: the next such message after the one the previous step matched.
        const deadline = Date.now() + waitMs;
        let message: SipMessage | null = null;
        while (!message) {
          const items = transport.sent.items;
          const index = items.findIndex((r, k) => k >= cursor && matches(step)(r.message));
          if (index >= 0) {
            cursor = index + 1;
            message = items[index]!.message;
          } else if (Date.now() > deadline) {
            throw new Error(`line ${step.line}: we sent no ${step.status ?? ''} ${step.method}; sent: ${items.map((r) => firstLine(r.message)).join(' | ')}`);
          } else await new Promise((resolve) => setTimeout(resolve, 5));
        }
        for (const check of step.checks) {
          if (check === 'body') expectThat(message.body.length > 0, step.line, 'a body');
          else if (check === 'no body') expectThat(message.body.length === 0, step.line, 'no body');
          else {
            const [name, value] = check.split(/:\s*/, 2) as [string, string];
            const values = message.getAll(name.toLowerCase());
            expectThat(values.some((v) => v.toLowerCase().includes(value.toLowerCase())), step.line, `${name}: ${value} (got ${values.join(', ') || 'none'})`);
          }
        }
        break;
      }
      case 'none': {
        // Not a wait: nothing of the kind has gone out so far, at any point of the ladder.
        const sent = transport.sent.items.filter((r) => matches(step)(r.message));
        expectThat(sent.length === 0, step.line, `no ${step.status ?? ''} ${step.method} sent yet (sent: ${sent.map((r) => firstLine(r.message)).join(' | ')})`);
        break;
      }
      case 'do': {
        const s = session as InviteSession | null;
        switch (step.action) {
          case 'invite':
          case 'invite-late': {
            const request = new SipRequest('INVITE', 'sip:peer@192.0.2.10:5060');
            request.add('max-forwards', 70).add('from', '<sip:carillon@192.0.2.1>;tag=ours').add('to', '<sip:peer@192.0.2.10>');
            request.add('call-id', callId).add('cseq', '1 INVITE').add('contact', '<sip:carillon@192.0.2.1:5060>');
            if (step.action === 'invite') {
              request.add('content-type', 'application/sdp');
              request.body = OUR_SDP;
            }
            session = InviteSession.uac({ request, target: { transport: 'UDP', host: '192.0.2.10', port: 5060 }, transactions: layer, settings, log: quiet });
            observe(session);
            break;
          }
          case 'accept':
            s!.accept({ sdp: OUR_SDP });
            break;
          case 'reject':
            s!.reject(Number(step.args[0] ?? 486));
            break;
          case 'refuse-brief':
            expectThat(s!.refuseTooBrief(), step.line, 'the interval refused as too brief');
            break;
          case 'answer-offer':
            offers.shift()!.accept({ sdp: OUR_SDP });
            break;
          case 'reject-offer':
            offers.shift()!.reject(Number(step.args[0] ?? 488));
            break;
          case 'reinvite':
            void s!.reinvite(OUR_SDP);
            break;
          case 'update':
            void s!.update(OUR_SDP);
            break;
          case 'bye':
            s!.bye();
            break;
          case 'close':
            s!.close();
            break;
          case 'cancel':
            s!.cancel();
            break;
          default:
            throw new Error(`line ${step.line}: unknown action ${step.action}`);
        }
        break;
      }
      case 'event':
        await waitEvent(step.name, step.arg, step.line);
        break;
      case 'state':
        expectThat(session!.state === step.value, step.line, `state ${step.value} (is ${session!.state})`);
        break;
      case 'offer-answer':
        expectThat(session!.offerAnswerState === step.value, step.line, `offer/answer ${step.value} (is ${session!.offerAnswerState})`);
        break;
    }
  }
  const result = { session: session!, transport };
  session!.close();
  layer.close();
  return result;
}

function expectThat(ok: boolean, line: number, what: string): void {
  if (!ok) throw new Error(`line ${line}: expected ${what}`);
}

function firstLine(m: SipMessage): string {
  return m.kind === 'request' ? `${m.method}` : `${m.status} ${m.cseq.method}`;
}
