import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import type { Server as NetServer, Socket } from 'node:net';

/**
 * The part of the `smpp` package (0.5, PDUs and sockets only) this service
 * uses, typed. The package has no types of its own; everything above the PDUs
 * (windowing, timeouts, reconnects, receipts, concatenation) is ours.
 */
export interface SmppPdu {
  command: string;
  command_id: number;
  command_status: number;
  sequence_number: number;
  isResponse(): boolean;
  response(options?: Record<string, unknown>): SmppPdu;
  toBuffer(): Buffer;
  // Parameters and TLVs of the PDU, by their SMPP 3.4 names.
  [param: string]: unknown;
}

export interface SmppSession extends EventEmitter {
  readonly socket: Socket;
  send(pdu: SmppPdu, responseCallback?: (pdu: SmppPdu) => void): boolean;
  close(callback?: () => void): void;
  destroy(callback?: () => void): void;
  pause(): void;
  resume(): void;
}

export interface SmppServer extends NetServer {
  readonly sessions: SmppSession[];
}

interface SmppModule {
  PDU: new (command: string | Buffer, options?: Record<string, unknown>) => SmppPdu;
  Session: new (options: { host: string; port: number; socket?: Socket }) => SmppSession;
  createServer(options: Record<string, unknown>, listener: (session: SmppSession) => void): SmppServer;
  errors: Record<string, number>;
}

const smpp = createRequire(import.meta.url)('smpp') as SmppModule;

export const SmppPdu = smpp.PDU;

/** Opens a TCP connection to an SMSC; the session emits 'connect', 'pdu', 'close', 'error'. */
export function connectSmpp(host: string, port: number): SmppSession {
  return new smpp.Session({ host, port });
}

export function createSmppServer(listener: (session: SmppSession) => void): SmppServer {
  return smpp.createServer({}, listener);
}

/** command_status values (SMPP 3.4 §5.1.3). */
export const SmppStatus = {
  OK: 0x0000,
  INVALID_BIND_STATUS: 0x0004,
  ALREADY_BOUND: 0x0005,
  SYSTEM_ERROR: 0x0008,
  MESSAGE_QUEUE_FULL: 0x0014,
  BIND_FAILED: 0x000d,
  INVALID_PASSWORD: 0x000e,
  INVALID_DESTINATION: 0x000b,
  THROTTLED: 0x0058,
  TEMPORARY_APP_ERROR: 0x0064,
} as const;

export function smppStatusName(status: number): string {
  for (const [name, value] of Object.entries(smpp.errors)) if (value === status) return name;
  return `0x${status.toString(16).padStart(8, '0')}`;
}

/** esm_class bits (SMPP 3.4 §5.2.12). */
export const ESM_UDH_INDICATOR = 0x40;
/** Message type bits 2–5 of esm_class: 0x04 is an SMSC delivery receipt. */
export const ESM_TYPE_MASK = 0x3c;
export const ESM_TYPE_DELIVERY_RECEIPT = 0x04;
