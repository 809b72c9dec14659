import type { AddressInfo } from 'node:net';
import { readUdh, splitSms } from '@carillon/domain';
import { createSmppServer, ESM_TYPE_DELIVERY_RECEIPT, ESM_UDH_INDICATOR, SmppPdu, SmppStatus, type SmppServer, type SmppSession } from '../src/sms/smpp-package.ts';

/**
 * A misbehaving SMSC for tests and benchmarks, on the `smpp` package's
 * server: it takes binds, answers submit_sm after a delay, sends delivery
 * receipts and inbound (single or multipart) texts, and on request drops
 * every connection mid-batch, stops answering for a while, answers
 * ESME_RTHROTTLED, or refuses a destination for good. It records every
 * submit_sm it took (given a message id), so a test can check on this side
 * that each message arrived exactly once, by content and count.
 */
export interface ReceivedSubmit {
  messageId: string;
  from: string;
  to: string;
  /** Decoded by the smpp package, UDH removed. */
  text: string;
  dataCoding: number;
  concatenation: { reference: number; total: number; sequence: number } | null;
  /** Whether the SMSC answered it (false: taken during a stall or just before a drop). */
  answered: boolean;
  /** performance.now() when it was read: rates are measured on this side. */
  receivedAt: number;
}

export interface TestSmscOptions {
  systemId: string;
  password: string;
  /** Delay before each submit_sm_resp. */
  ackDelayMs?: number;
  /** Delay after the response before the delivery receipt (null: no receipts). */
  receiptDelayMs?: number | null;
}

export interface TestSmsc {
  port: number;
  readonly received: ReceivedSubmit[];
  /** Binds accepted so far (a reconnect adds one). */
  readonly binds: { command: string; systemId: string }[];
  readonly refusedBinds: number;
  /** unbind PDUs received (an ESME closing politely). */
  readonly unbinds: number;
  /** Submits answered ESME_RTHROTTLED (not taken). */
  throttledCount: number;
  /** Most submit_sm taken and not yet answered at once: the ESME's window as seen from here. */
  maxInFlight: number;
  /** Destroys every connection when the next `afterSubmits` submit_sm arrive (the last one is taken, never answered). */
  dropAfter(afterSubmits: number): Promise<void>;
  /** Stops answering anything (submit_sm, enquire_link) until resume(); submits meanwhile are taken unanswered. */
  stall(): void;
  resume(): void;
  /** Answers the next `count` submit_sm with ESME_RTHROTTLED. */
  throttleNext(count: number): void;
  /** Refuses submits to this destination with ESME_RINVDSTADR. */
  refuseDestination(to: string): void;
  /** Receipts for this destination say UNDELIV with this err code. */
  undeliverable(to: string, err: string): void;
  /** Sends a text to the ESME (split and concatenated when long); resolves with each part's deliver_sm_resp status. */
  sendInbound(from: string, to: string, text: string): Promise<number[]>;
  /** Messages reassembled from what was taken: key `to|text`, value how many times. */
  deliveredCounts(): Map<string, number>;
  waitForBinds(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function startTestSmsc(options: TestSmscOptions): Promise<TestSmsc> {
  const received: ReceivedSubmit[] = [];
  const binds: { command: string; systemId: string }[] = [];
  let refusedBinds = 0;
  let unbinds = 0;
  let nextId = 1;
  let inFlight = 0;
  let stalled = false;
  let throttle = 0;
  let dropCountdown: { left: number; resolve: () => void } | null = null;
  const refused = new Set<string>();
  const undeliverable = new Map<string, string>();
  const bound = new Set<SmppSession>();
  const bindWaiters: { n: number; resolve: () => void }[] = [];
  const ackDelay = options.ackDelayMs ?? 0;
  const receiptDelay = options.receiptDelayMs === undefined ? 5 : options.receiptDelayMs;
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    if (ms <= 0) return void queueMicrotask(fn);
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const server: SmppServer = createSmppServer((session) => {
    session.on('error', () => undefined);
    session.on('close', () => bound.delete(session));
    session.on('pdu', (pdu: SmppPdu) => {
      switch (pdu.command) {
        case 'bind_transceiver':
        case 'bind_transmitter':
        case 'bind_receiver': {
          if (pdu.system_id !== options.systemId || pdu.password !== options.password) {
            refusedBinds++;
            session.send(pdu.response({ command_status: SmppStatus.INVALID_PASSWORD }));
            return;
          }
          binds.push({ command: pdu.command, systemId: String(pdu.system_id) });
          bound.add(session);
          session.send(pdu.response({ system_id: 'testsmsc' }));
          if (pdu.command !== 'bind_transmitter') queueMicrotask(resendReceipts);
          for (const w of bindWaiters.splice(0)) if (binds.length >= w.n) w.resolve(); else bindWaiters.push(w);
          return;
        }
        case 'enquire_link':
          // A stalled SMSC answers nothing, keep-alives included.
          if (!stalled) session.send(pdu.response());
          return;
        case 'unbind':
          unbinds++;
          session.send(pdu.response());
          session.close();
          return;
        case 'submit_sm':
          onSubmit(session, pdu);
          return;
        case 'deliver_sm_resp':
        case 'enquire_link_resp':
          return;
        default:
          if (!pdu.isResponse()) session.send(pdu.response({ command_status: 0x0003 }));
      }
    });
  });

  function onSubmit(session: SmppSession, pdu: SmppPdu): void {
    if (!bound.has(session)) {
      session.send(pdu.response({ command_status: SmppStatus.INVALID_BIND_STATUS }));
      return;
    }
    if (stalled) {
      record(pdu, false);
      return;
    }
    if (dropCountdown && --dropCountdown.left <= 0) {
      // Taken, then the connection dies before the answer: the ESME cannot know it arrived.
      record(pdu, false);
      const done = dropCountdown.resolve;
      dropCountdown = null;
      for (const s of [...server.sessions]) s.destroy();
      done();
      return;
    }
    if (throttle > 0) {
      throttle--;
      api.throttledCount++;
      later(ackDelay, () => session.send(pdu.response({ command_status: SmppStatus.THROTTLED })));
      return;
    }
    const to = String(pdu.destination_addr);
    if (refused.has(to)) {
      later(ackDelay, () => session.send(pdu.response({ command_status: SmppStatus.INVALID_DESTINATION })));
      return;
    }
    const sub = record(pdu, true);
    inFlight++;
    api.maxInFlight = Math.max(api.maxInFlight, inFlight);
    later(ackDelay, () => {
      inFlight--;
      if (stalled || session.socket.destroyed) {
        sub.answered = false;
        return;
      }
      session.send(pdu.response({ message_id: sub.messageId }));
      if (receiptDelay === null || !(Number(pdu.registered_delivery) & 1)) return;
      later(receiptDelay, () => {
        const err = undeliverable.get(to);
        const stat = err ? 'UNDELIV' : 'DELIVRD';
        sendReceipt({
          source_addr: to,
          destination_addr: String(pdu.source_addr),
          esm_class: ESM_TYPE_DELIVERY_RECEIPT,
          short_message: `id:${sub.messageId} sub:001 dlvrd:${err ? '000' : '001'} submit date:2412061530 done date:2412061531 stat:${stat} err:${err ?? '000'} text:`,
        });
      });
    });
  }

  /**
   * Like a real SMSC, a receipt is kept until the ESME answers its deliver_sm,
   * and sent again on the next bind when the connection went away first.
   */
  const unackedReceipts = new Map<number, Record<string, unknown>>();
  let receiptKey = 0;
  function sendReceipt(params: Record<string, unknown>, key = ++receiptKey): void {
    unackedReceipts.set(key, params);
    const receiver = [...bound].find((s) => !s.socket.destroyed);
    if (!receiver || stalled) return;
    receiver.send(new SmppPdu('deliver_sm', { ...params }), (resp) => {
      if (resp.command_status === 0) unackedReceipts.delete(key);
    });
  }
  function resendReceipts(): void {
    for (const [key, params] of [...unackedReceipts]) sendReceipt(params, key);
  }

  function record(pdu: SmppPdu, answered: boolean): ReceivedSubmit {
    const short = pdu.short_message as { message?: unknown; udh?: Buffer[] };
    const udh = short.udh?.length ? readUdh(Uint8Array.from([short.udh.reduce((n, ie) => n + ie.length, 0), ...short.udh.flatMap((ie) => [...ie])])) : null;
    const sub: ReceivedSubmit = {
      messageId: `M${(nextId++).toString(16).padStart(8, '0')}`,
      from: String(pdu.source_addr),
      to: String(pdu.destination_addr),
      text: typeof short.message === 'string' ? short.message : '',
      dataCoding: Number(pdu.data_coding),
      concatenation: udh?.concatenation ?? null,
      answered,
      receivedAt: performance.now(),
    };
    received.push(sub);
    return sub;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });

  const api: TestSmsc = {
    port: (server.address() as AddressInfo).port,
    received,
    binds,
    get refusedBinds() {
      return refusedBinds;
    },
    get unbinds() {
      return unbinds;
    },
    throttledCount: 0,
    maxInFlight: 0,
    dropAfter: (afterSubmits) => new Promise<void>((resolve) => (dropCountdown = { left: afterSubmits, resolve })),
    stall: () => {
      stalled = true;
    },
    resume: () => {
      stalled = false;
      resendReceipts();
    },
    throttleNext: (count) => {
      throttle = count;
    },
    refuseDestination: (to) => refused.add(to.replace(/^\+/, '')),
    undeliverable: (to, err) => undeliverable.set(to.replace(/^\+/, ''), err),
    async sendInbound(from, to, text) {
      const receiver = [...bound].find((s) => !s.socket.destroyed);
      if (!receiver) throw new Error('no bound session to deliver to');
      const split = splitSms(text, nextId++ & 0xff);
      return Promise.all(
        split.segments.map(
          (segment) =>
            new Promise<number>((resolve) => {
              const pdu = new SmppPdu('deliver_sm', {
                source_addr: from.replace(/^\+/, ''),
                destination_addr: to.replace(/^\+/, ''),
                esm_class: segment.udh ? ESM_UDH_INDICATOR : 0,
                data_coding: split.dataCoding,
                short_message: segment.udh ? Buffer.concat([segment.udh, segment.payload]) : Buffer.from(segment.payload),
              });
              receiver.send(pdu, (resp) => resolve(resp.command_status));
            }),
        ),
      );
    },
    deliveredCounts() {
      const counts = new Map<string, number>();
      const parts = new Map<string, ReceivedSubmit[]>();
      for (const r of received) {
        if (!r.concatenation) {
          const key = `${r.to}|${r.text}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
          continue;
        }
        // Parts of one message share the reference; a resend of the whole would repeat sequence numbers.
        const group = `${r.from}|${r.to}|${r.concatenation.reference}|${r.concatenation.total}`;
        const list = parts.get(group) ?? [];
        list.push(r);
        parts.set(group, list);
      }
      for (const list of parts.values()) {
        const bySeq = new Map<number, ReceivedSubmit[]>();
        for (const r of list) bySeq.set(r.concatenation!.sequence, [...(bySeq.get(r.concatenation!.sequence) ?? []), r]);
        const copies = Math.max(...[...bySeq.values()].map((v) => v.length));
        const text = [...bySeq.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v[0]!.text).join('');
        const key = `${list[0]!.to}|${text}`;
        counts.set(key, (counts.get(key) ?? 0) + copies);
      }
      return counts;
    },
    waitForBinds: (n) => new Promise<void>((resolve) => (binds.length >= n ? resolve() : bindWaiters.push({ n, resolve }))),
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const s of [...server.sessions]) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return api;
}
