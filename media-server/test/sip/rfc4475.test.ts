import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSipMessage } from '../../src/sip/message/index.ts';
import { startEdge, type EdgeHarness } from '../support/edge-harness.ts';
import { eventually } from './support/inbox.ts';

/**
 * RFC 4475, the SIP torture test messages, byte for byte as the RFC's archive
 * has them (test/sip/rfc4475/<name>.dat), each with the answer the RFC asks of
 * an element in this edge's role (registrar and user agent for its own domain):
 * valid requests are processed as any other (challenged, answered, refused by
 * method), invalid ones get 400, 505, 416 or 420, and responses nobody asked
 * for are dropped. `parses` is what the parser alone says.
 */
interface TortureCase {
  section: string;
  parses: true | 400 | 416 | 505;
  /** The edge's answer over UDP, or null for a message that gets none. */
  answer: number | null;
}

const CASES: Record<string, TortureCase> = {
  // 3.1.1 Valid messages
  wsinv: { section: '3.1.1.1', parses: true, answer: 481 }, // its To has a tag: a request in a dialog this edge does not know
  intmeth: { section: '3.1.1.2', parses: true, answer: 405 },
  esc01: { section: '3.1.1.3', parses: true, answer: 407 },
  escnull: { section: '3.1.1.4', parses: true, answer: 401 },
  esc02: { section: '3.1.1.5', parses: true, answer: 405 }, // RE%47IST%45R is not REGISTER
  lwsdisp: { section: '3.1.1.6', parses: true, answer: 200 },
  longreq: { section: '3.1.1.7', parses: true, answer: 407 },
  dblreq: { section: '3.1.1.8', parses: true, answer: 401 },
  semiuri: { section: '3.1.1.9', parses: true, answer: 200 },
  transports: { section: '3.1.1.10', parses: true, answer: 200 },
  mpart01: { section: '3.1.1.11', parses: true, answer: 405 },
  unreason: { section: '3.1.1.12', parses: true, answer: null },
  noreason: { section: '3.1.1.13', parses: true, answer: null },
  // 3.1.2 Invalid messages
  badinv01: { section: '3.1.2.1', parses: 400, answer: 400 },
  clerr: { section: '3.1.2.2', parses: 400, answer: 400 },
  ncl: { section: '3.1.2.3', parses: 400, answer: 400 },
  scalar02: { section: '3.1.2.4', parses: 400, answer: 400 },
  scalarlg: { section: '3.1.2.5', parses: 400, answer: null },
  quotbal: { section: '3.1.2.6', parses: 400, answer: 400 },
  ltgtruri: { section: '3.1.2.7', parses: 400, answer: 400 },
  lwsruri: { section: '3.1.2.8', parses: 400, answer: 400 },
  lwsstart: { section: '3.1.2.9', parses: 400, answer: 400 },
  trws: { section: '3.1.2.10', parses: 400, answer: 400 },
  escruri: { section: '3.1.2.11', parses: 400, answer: 400 },
  baddate: { section: '3.1.2.12', parses: true, answer: 407 }, // the RFC lets an element ignore a bad Date
  regbadct: { section: '3.1.2.13', parses: 400, answer: 400 },
  badaspec: { section: '3.1.2.14', parses: 400, answer: 400 },
  baddn: { section: '3.1.2.15', parses: 400, answer: 400 },
  badvers: { section: '3.1.2.16', parses: 505, answer: 505 },
  mismatch01: { section: '3.1.2.17', parses: 400, answer: 400 },
  mismatch02: { section: '3.1.2.18', parses: 400, answer: 400 },
  bigcode: { section: '3.1.2.19', parses: 400, answer: null },
  // 3.2 Transaction layer
  badbranch: { section: '3.2.1', parses: true, answer: 200 },
  // 3.3 Application layer
  insuf: { section: '3.3.1', parses: 400, answer: 400 },
  unkscm: { section: '3.3.2', parses: 416, answer: 416 },
  novelsc: { section: '3.3.3', parses: 416, answer: 416 },
  unksm2: { section: '3.3.4', parses: 400, answer: 400 }, // a registrar's AOR must be a SIP or SIPS URI
  bext01: { section: '3.3.5', parses: true, answer: 420 },
  invut: { section: '3.3.6', parses: true, answer: 415 },
  regaut01: { section: '3.3.7', parses: true, answer: 401 },
  multi01: { section: '3.3.8', parses: 400, answer: 400 },
  mcl01: { section: '3.3.9', parses: 400, answer: 400 },
  bcast: { section: '3.3.10', parses: true, answer: null },
  zeromf: { section: '3.3.11', parses: true, answer: 200 },
  cparam01: { section: '3.3.12', parses: true, answer: 401 },
  cparam02: { section: '3.3.13', parses: true, answer: 401 },
  regescrt: { section: '3.3.14', parses: true, answer: 401 },
  sdp01: { section: '3.3.15', parses: true, answer: 406 },
  // 3.4 Backward compatibility
  inv2543: { section: '3.4.1', parses: true, answer: 407 },
};

const DIR = path.join(import.meta.dirname, 'rfc4475');
const message = (name: string) => fs.readFileSync(path.join(DIR, `${name}.dat`));
/** What a response to the message carries back: its (first) Call-ID, else its top Via branch. */
const marker = (data: Buffer) => {
  const text = data.toString('latin1');
  return (/^(?:call-id|i)[ \t]*:[ \t]*(\S+)/im.exec(text) ?? /branch=([^;\s]+)/.exec(text))![1]!;
};
const statusOf = (data: Buffer) => Number(/^SIP\/2\.0 ([0-9]{3}) /.exec(data.toString('latin1', 0, 16))?.[1] ?? -1);

describe('RFC 4475 torture messages', () => {
  it('the corpus holds every message of the RFC', () => {
    expect(fs.readdirSync(DIR).sort()).toEqual(Object.keys(CASES).map((n) => `${n}.dat`).sort());
  });

  it.each(Object.entries(CASES))('%s is read by the parser as the RFC says', (name, c) => {
    const result = parseSipMessage(message(name));
    if (c.parses === true) expect(result.ok ? 'ok' : result.reason, c.section).toBe('ok');
    else expect(result.ok ? 200 : (result.status ?? 400), c.section).toBe(c.parses);
  });

  it('reads the valid messages right', () => {
    const read = (name: string) => {
      const r = parseSipMessage(message(name));
      if (!r.ok || r.message.kind !== 'request') throw new Error(`${name} not read`);
      return r.message;
    };
    expect(read('wsinv').get('max-forwards')).toBe('0068');
    expect(read('intmeth').method).toBe("!INTERESTING-METHOD0123456789_*+`.%INDEED'~");
    expect(read('intmeth').to()!.displayName).toBe('BEL:\x07 NUL:\x00 DEL:\x7f');
    expect(read('esc02').method).toBe('RE%47IST%45R');
    expect(read('escnull').to()!.uri.user).toBe('null-\x00-null');
    // Only the first message of the datagram, its body cut at Content-Length.
    expect(read('dblreq').body.length).toBe(0);
    expect(read('mpart01').body.length).toBe(553);
    expect(read('transports').vias().map((v) => v.transport)).toEqual(['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
  });

  describe('sent over UDP to a running edge', () => {
    /** Its own loopback address: the messages' Vias send the answers to the source address at ports 5050, 5060 and 5070. */
    const HOST = '127.0.44.75';
    let h: EdgeHarness;
    const sockets: dgram.Socket[] = [];
    const received: Buffer[] = [];

    beforeAll(async () => {
      // A short T1, so that a finished transaction does not linger long (Timer J, H: 64·T1); no registrar
      // thread, so that every transaction is in the main thread's count.
      h = await startEdge({ t1Ms: 20, registrarThreads: 0 });
      for (const port of [5060, 5050, 5070]) {
        const socket = dgram.createSocket('udp4');
        socket.on('message', (data) => received.push(data));
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind(port, HOST, () => resolve());
        });
        sockets.push(socket);
      }
    }, 60_000);
    afterAll(async () => {
      for (const s of sockets) s.close();
      await h?.stop();
    });

    const send = (data: Buffer) => new Promise<void>((resolve, reject) => sockets[0]!.send(data, h.port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    const answersTo = (name: string) => received.filter((r) => r.includes(marker(message(name))));
    /**
     * Several messages share a branch, sent-by and method, so the edge would take the
     * second for a retransmission of the first (RFC 3261 §17.2.3): such a one waits
     * until the earlier transactions have ended.
     */
    const transactionKeys = new Set<string>();
    const sendCase = async (name: string) => {
      const parsed = parseSipMessage(message(name));
      if (parsed.ok && parsed.message.kind === 'request') {
        const via = parsed.message.topVia()!;
        const key = `${via.params.get('branch')}|${via.host}:${via.port}|${parsed.message.method}`;
        if (transactionKeys.has(key)) await eventually(() => { const n = h.edge.transactions.transactionCount; return n.server === 0 && n.completed === 0; }, 10_000, 'earlier transactions ended');
        transactionKeys.add(key);
      }
      await send(message(name));
    };

    it.each(Object.entries(CASES).filter(([, c]) => c.answer !== null))('%s gets the answer the RFC asks for', async (name, c) => {
      await sendCase(name);
      await eventually(() => answersTo(name).length > 0, 10_000, `answer to ${name}`);
      // A final answer to an INVITE is retransmitted until ACKed: every copy says the same.
      expect(answersTo(name).map(statusOf), c.section).toEqual(answersTo(name).map(() => c.answer));
      if (name === 'bext01') expect(answersTo(name)[0]!.toString()).toMatch(/\r\nUnsupported: nothingSupportsThis, nothingSupportsThisEither\r\n/);
      if (name === 'invut' || name === 'sdp01') expect(answersTo(name)[0]!.toString()).toMatch(/\r\nAccept: application\/sdp\r\n/);
    });

    it('the responses nobody asked for get no answer', async () => {
      const silent = Object.entries(CASES).filter(([, c]) => c.answer === null).map(([name]) => name);
      for (const name of silent) await send(message(name));
      // Datagrams are handled in order: once a request sent after them is answered, they were handled too.
      const probe = `OPTIONS sip:carillon.test SIP/2.0\r\nVia: SIP/2.0/UDP ${HOST}:5060;branch=z9hG4bKrfc4475probe\r\nMax-Forwards: 70\r\nFrom: <sip:probe@${HOST}>;tag=p\r\nTo: <sip:carillon.test>\r\nCall-ID: rfc4475-probe\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
      await send(Buffer.from(probe));
      await eventually(() => received.some((r) => r.includes('rfc4475-probe')), 10_000, 'answer to the probe');
      expect(silent.filter((name) => answersTo(name).length > 0)).toEqual([]);
    });
  });
});
