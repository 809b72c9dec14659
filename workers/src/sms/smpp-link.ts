import { EventEmitter } from 'node:events';
import type { Logger } from '@carillon/config';
import { connectSmpp, SmppPdu, smppStatusName, SmppStatus, type SmppSession } from './smpp-package.ts';

export type BindCommand = 'bind_transceiver' | 'bind_transmitter' | 'bind_receiver';

export interface SmppLinkOptions {
  host: string;
  port: number;
  systemId: string;
  /** Sent in the bind PDU only; never logged. */
  password: string;
  systemType: string;
  bind: BindCommand;
  /** Keep-alive period (SMPP 3.4 §4.11): an enquire_link when nothing else was sent for this long. */
  enquireLinkMs: number;
  /** How long a bind or an enquire_link may go unanswered before the link is dropped. */
  responseTimeoutMs: number;
  /** First wait before reconnecting; doubles after each failure up to reconnectMaxMs, reset once bound. */
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  log: Logger;
}

/**
 * connecting → binding → bound → down → connecting … ; closed is terminal.
 * Only `transition` changes it.
 */
export type LinkState = 'idle' | 'connecting' | 'binding' | 'bound' | 'down' | 'closed';

export interface SmppLinkEvents {
  bound: [];
  /** The link left 'bound' (connection lost, dropped, unbound): what was unanswered will never be answered. */
  down: [reason: string];
  /** Every PDU that is not the link's own business (bind, enquire_link, unbind). */
  pdu: [pdu: SmppPdu];
}

/**
 * One SMPP session to an SMSC, kept bound: it connects, binds, answers and
 * sends enquire_link, and after a drop reconnects with a growing backoff. It
 * knows nothing of messages: the client above sends on it while it is bound.
 */
export class SmppLink extends EventEmitter<SmppLinkEvents> {
  private readonly options: SmppLinkOptions;
  private session: SmppSession | null = null;
  private stateValue: LinkState = 'idle';
  private backoffMs: number;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private keepAliveTimer: NodeJS.Timeout | null = null;
  private answerTimer: NodeJS.Timeout | null = null;
  private lastSentAt = 0;
  /** Sequence number of the bind or enquire_link awaiting its answer. */
  private awaiting: { sequence: number; what: string } | null = null;

  constructor(options: SmppLinkOptions) {
    super();
    this.options = options;
    this.backoffMs = options.reconnectInitialMs;
  }

  get state(): LinkState {
    return this.stateValue;
  }

  start(): void {
    if (this.stateValue === 'idle') this.connect();
  }

  /** Sends a PDU while bound; false when not bound or the socket is not writable (nothing was written). */
  send(pdu: SmppPdu): boolean {
    if (this.stateValue !== 'bound' || !this.session) return false;
    const written = this.session.send(pdu);
    if (written) this.lastSentAt = Date.now();
    return written;
  }

  /** Drops the connection (a stalled SMSC); the link reconnects after its backoff. */
  drop(reason: string): void {
    if (this.stateValue === 'closed' || !this.session) return;
    this.options.log.warn('dropping SMPP connection', { host: this.options.host, port: this.options.port, reason });
    this.lostConnection(reason);
  }

  /** Unbinds politely when bound, then closes for good. */
  async close(): Promise<void> {
    if (this.stateValue === 'closed') return;
    const session = this.session;
    const wasBound = this.stateValue === 'bound';
    this.transition('closed', 'closed');
    if (!session) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      // An SMSC that does not answer the unbind must not hold the shutdown.
      const timer = setTimeout(() => session.destroy(), this.options.responseTimeoutMs);
      session.socket.once('close', done);
      if (wasBound && session.send(new SmppPdu('unbind'))) session.close();
      else session.destroy();
    });
  }

  private transition(next: LinkState, reason: string): void {
    const previous = this.stateValue;
    if (previous === 'closed') return;
    this.stateValue = next;
    if (next !== 'bound') this.stopKeepAlive();
    if (next === 'closed' || next === 'down') this.clearAnswerTimer();
    if (next === 'closed' && this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
    if (previous === 'bound' && next !== 'bound') this.emit('down', reason);
    if (next === 'bound') {
      this.backoffMs = this.options.reconnectInitialMs;
      this.startKeepAlive();
      this.emit('bound');
    }
  }

  private connect(): void {
    this.transition('connecting', 'connecting');
    const session = connectSmpp(this.options.host, this.options.port);
    this.session = session;
    session.on('connect', () => {
      if (this.session !== session || this.stateValue !== 'connecting') return;
      this.transition('binding', 'binding');
      const bind = new SmppPdu(this.options.bind, {
        system_id: this.options.systemId,
        password: this.options.password,
        system_type: this.options.systemType,
        interface_version: 0x34,
      });
      if (session.send(bind)) this.expectAnswer(bind.sequence_number, this.options.bind);
    });
    session.on('pdu', (pdu: SmppPdu) => {
      if (this.session === session) this.onPdu(session, pdu);
    });
    session.on('error', (err: Error) => {
      if (this.session === session) this.options.log.warn('SMPP connection error', { host: this.options.host, port: this.options.port, error: err.message });
    });
    session.on('close', () => {
      if (this.session === session) this.lostConnection('connection closed');
    });
  }

  private onPdu(session: SmppSession, pdu: SmppPdu): void {
    if (this.awaiting && pdu.isResponse() && pdu.sequence_number === this.awaiting.sequence) {
      const what = this.awaiting.what;
      this.clearAnswerTimer();
      if (what === 'enquire_link') return;
      if (pdu.command_status !== SmppStatus.OK) {
        // The reason names the status, never the credentials.
        this.options.log.error('SMPP bind refused', { host: this.options.host, port: this.options.port, systemId: this.options.systemId, status: smppStatusName(pdu.command_status) });
        this.lostConnection(`bind refused: ${smppStatusName(pdu.command_status)}`);
        return;
      }
      this.options.log.info('SMPP bound', { host: this.options.host, port: this.options.port, bind: what });
      this.transition('bound', 'bound');
      return;
    }
    switch (pdu.command) {
      case 'enquire_link':
        session.send(pdu.response());
        return;
      case 'unbind':
        session.send(pdu.response());
        this.lostConnection('unbound by the SMSC');
        return;
      case 'unbind_resp':
      case 'enquire_link_resp':
        return;
      default:
        this.emit('pdu', pdu);
    }
  }

  private expectAnswer(sequence: number, what: string): void {
    this.clearAnswerTimer();
    this.awaiting = { sequence, what };
    this.answerTimer = setTimeout(() => this.lostConnection(`${what} unanswered`), this.options.responseTimeoutMs);
  }

  private clearAnswerTimer(): void {
    if (this.answerTimer) clearTimeout(this.answerTimer);
    this.answerTimer = null;
    this.awaiting = null;
  }

  private startKeepAlive(): void {
    this.lastSentAt = Date.now();
    const period = this.options.enquireLinkMs;
    this.keepAliveTimer = setInterval(() => {
      if (this.stateValue !== 'bound' || this.awaiting || Date.now() - this.lastSentAt < period) return;
      const pdu = new SmppPdu('enquire_link');
      if (this.send(pdu)) this.expectAnswer(pdu.sequence_number, 'enquire_link');
    }, Math.max(50, Math.floor(period / 2)));
  }

  private stopKeepAlive(): void {
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    this.keepAliveTimer = null;
  }

  private lostConnection(reason: string): void {
    const session = this.session;
    this.session = null;
    session?.destroy();
    if (this.stateValue === 'closed') return;
    this.transition('down', reason);
    if (this.reconnectTimer) return;
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.reconnectMaxMs);
    this.options.log.info('SMPP reconnecting', { host: this.options.host, port: this.options.port, reason, inMs: wait });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.stateValue === 'down') this.connect();
    }, wait);
  }
}
