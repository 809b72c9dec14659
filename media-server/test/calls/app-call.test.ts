import { randomBytes, randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@carillon/config';
import { IllegalCallTransition } from '../../src/calls/call-state.ts';
import { AppCall, type AppCallContext, type AppCallEnd } from '../../src/calls/app-call.ts';
import { CallEndedError, DestinationRefusedError, RoomFullError, UnsupportedVerbError, type CallApp, type CallHandle } from '../../src/apps/call-handle.ts';
import type { CallParty } from '../../src/calls/call-context.ts';
import { RoomRegistry } from '../../src/calls/room-registry.ts';
import { MediaEngine } from '../../src/media/index.ts';
import type { SipRequest, SipResponse } from '../../src/sip/message/index.ts';
import { TransactionLayer, type InviteServerTransaction } from '../../src/sip/transaction/index.ts';
import { ackRoutes } from '../../src/sip/session/index.ts';
import { FakeTransport, PEER_SOURCE } from '../sip/session/support/fake-transport.ts';

/**
 * AppCall, the call an application drives: its state machine (one
 * transition function, illegal moves refused, Ended for good), what a CANCEL
 * or a BYE does in each state (the signal fires, verbs refuse, the end is
 * recorded once), and the release cascading to the session and the media
 * endpoint. A real transaction layer on a fake transport plays the caller; the
 * media engine is real (one worker).
 */
const quiet = createLogger('app-call-test', 'error', () => {});
const SDP = ['v=0', 'o=peer 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', ''].join('\r\n');
const CALLER: CallParty = { kind: 'device', accountId: randomUUID(), extensionId: randomUUID(), extensionNumber: '101', deviceId: randomUUID(), displayName: 'Ann' };

let media: MediaEngine;
let rooms: RoomRegistry;
const recordingsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-app-call-'));

beforeAll(async () => {
  const base = 30000 + Math.floor(Math.random() * 100) * 50;
  media = await MediaEngine.start({ workers: 1, portRange: { min: base, max: base + 49 }, bindAddress: '127.0.0.1' });
  rooms = new RoomRegistry(media, { capacity: 2 });
});
afterAll(async () => {
  await media.stop();
  fs.rmSync(recordingsDir, { recursive: true, force: true });
});

const running: AppCall[] = [];
const notHere = () => Promise.reject(new Error('no callee leg in these tests'));
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.close()));
  expect(Object.values(media.liveCounts()).every((n) => n === 0), JSON.stringify(media.liveCounts())).toBe(true);
});

/** One caller and its AppCall: the INVITE delivered, the call started with `app`. */
async function call(app: CallApp, opts: { openRecord?: AppCallContext['openRecord']; lateOffer?: boolean; transferTarget?: AppCallContext['transferTarget'] } = {}) {
  const transport = new FakeTransport();
  const layer = new TransactionLayer(transport, { via: { host: '127.0.0.1', ports: { UDP: 5060 } }, timers: { T1: 50, T2: 400, T4: 250, D: 500 }, logger: quiet });
  const callId = `${randomBytes(6).toString('hex')}@test`;
  const fromTag = randomBytes(4).toString('hex');
  const ends: (AppCallEnd & { stats?: unknown })[] = [];
  const states: string[] = [];
  let appCall: AppCall | null = null;
  const forgotten: AppCall[] = [];
  const ctx: AppCallContext = {
    log: quiet,
    transactions: layer,
    media,
    sessionSettings: { glareUnitMs: 1, secondMs: 10 },
    localContact: () => ({ host: '127.0.0.1', port: 5060 }),
    openRecord: opts.openRecord ?? (() => Promise.resolve({ callId: randomUUID(), legId: randomUUID() })),
    language: () => Promise.resolve('en'),
    speak: () => Promise.reject(new Error('no TTS in this test')),
    recordingsDir,
    forget: (c) => forgotten.push(c),
    // bridgeTo has its tests end to end (test/sipp/user-answering.test.ts): no call here rings anyone.
    calleeDevices: () => Promise.resolve([]),
    records: { addLeg: notHere, legEnded: notHere, answered: notHere, legAnswered: notHere },
    domain: 'carillon.test',
    registerFork: () => undefined,
    rooms,
    transferTarget: opts.transferTarget ?? (() => Promise.resolve({ status: 404, reason: 'Not Found' })),
  };
  const started = new Promise<AppCall>((resolve) => {
    layer.onRequest((req, tx) => {
      if (appCall) {
        appCall.inDialog(req, tx);
        return;
      }
      appCall = new AppCall(ctx, req, tx as InviteServerTransaction, PEER_SOURCE, CALLER, { kind: 'announcement', accountId: CALLER.accountId, extensionId: randomUUID(), extensionNumber: '302', direction: 'internal' }, app);
      appCall.on('state', (_from, to) => states.push(to));
      appCall.on('ended', (end) => ends.push(end));
      running.push(appCall);
      void appCall.start();
      resolve(appCall);
    });
  });
  layer.onAck((ack) => ackRoutes(layer).route(ack));
  layer.onCancel((_cancel, cancelTx) => appCall?.cancelByCaller(cancelTx));
  const inviteBranch = `z9hG4bK${randomBytes(5).toString('hex')}`;
  const headers = (method: string, cseq: number, branch: string, toTag = '') =>
    [
      `Via: SIP/2.0/UDP 127.0.0.1:5062;branch=${branch};rport`,
      `From: "Ann" <sip:101@carillon.test>;tag=${fromTag}`,
      `To: <sip:302@carillon.test>${toTag ? `;tag=${toTag}` : ''}`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} ${method}`,
      'Contact: <sip:101@127.0.0.1:5062>',
      'Max-Forwards: 70',
    ].join('\r\n');
  transport.deliver(
    opts.lateOffer
      ? `INVITE sip:302@carillon.test SIP/2.0\r\n${headers('INVITE', 1, inviteBranch)}\r\nContent-Length: 0\r\n\r\n`
      : `INVITE sip:302@carillon.test SIP/2.0\r\n${headers('INVITE', 1, inviteBranch)}\r\nContent-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`,
  );
  const c = await started;
  const response = (status: number, method = 'INVITE') => transport.sent.next((m) => m.kind === 'response' && m.status === status && m.cseq.method === method, 10_000) as Promise<SipResponse>;
  const toTag = () => (transport.sent.all((m) => m.kind === 'response' && m.cseq.method === 'INVITE' && m.status > 100)[0] as SipResponse | undefined)?.to()?.params.get('tag') ?? '';
  let cseq = 1;
  const peer = {
    transport,
    response,
    ack: (sdp = '') =>
      transport.deliver(`ACK sip:101@127.0.0.1:5060 SIP/2.0\r\n${headers('ACK', 1, `z9hG4bK${randomBytes(5).toString('hex')}`, toTag())}\r\n${sdp ? 'Content-Type: application/sdp\r\n' : ''}Content-Length: ${sdp.length}\r\n\r\n${sdp}`),
    cancel: () => transport.deliver(`CANCEL sip:302@carillon.test SIP/2.0\r\n${headers('CANCEL', 1, inviteBranch)}\r\nContent-Length: 0\r\n\r\n`),
    bye: () => transport.deliver(`BYE sip:carillon@127.0.0.1:5060 SIP/2.0\r\n${headers('BYE', ++cseq, `z9hG4bK${randomBytes(5).toString('hex')}`, toTag())}\r\nContent-Length: 0\r\n\r\n`),
    digit: (d: string) => {
      const body = `Signal=${d}\r\nDuration=160\r\n`;
      transport.deliver(`INFO sip:carillon@127.0.0.1:5060 SIP/2.0\r\n${headers('INFO', ++cseq, `z9hG4bK${randomBytes(5).toString('hex')}`, toTag())}\r\nContent-Type: application/dtmf-relay\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    },
    /** Requests we sent to the caller (BYE), retransmissions counted once. */
    requests: (method: string) => [...new Set(transport.sent.all((m) => m.kind === 'request' && (m as SipRequest).method === method).map((m) => m.cseq.seq))],
  };
  const ended = async () => {
    await expect.poll(() => c.state, { timeout: 10_000, interval: 10 }).toBe('Ended');
    return ends[0]!;
  };
  return { call: c, peer, ends, states, ended, forgotten };
}

/** Recordings started so far (each is a new file, kept after it stops). */
function recordingsMade(): number {
  const dir = path.join(recordingsDir, 'app-calls');
  return fs.existsSync(dir) ? fs.readdirSync(dir).length : 0;
}

/** A promise and its resolver, to hold an application at a step. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('the state machine', () => {
  it('moves Starting -> Offered -> Answered -> Ending -> Ended and refuses every other move', async () => {
    const hold = deferred();
    const { call: c, peer, states, ended } = await call(async (h) => {
      await h.answer();
      await hold.promise;
    });
    await peer.response(200);
    expect(c.state).toBe('Answered');
    // Illegal moves are refused and change nothing.
    expect(() => c.transitionForTesting('Offered')).toThrow(IllegalCallTransition);
    expect(() => c.transitionForTesting('Ended')).toThrow(IllegalCallTransition);
    expect(() => c.transitionForTesting('Starting')).toThrow(IllegalCallTransition);
    expect(c.state).toBe('Answered');
    peer.ack();
    hold.resolve();
    const end = await ended();
    expect(states).toEqual(['Offered', 'Answered', 'Ending', 'Ended']);
    // The application returned without hanging up: the call ends with our BYE.
    expect(peer.requests('BYE')).toHaveLength(1);
    expect(end).toMatchObject({ result: 'answered', hangupBy: 'callee' });
    // Nothing reopens an ended call.
    for (const to of ['Starting', 'Offered', 'Answered', 'Ending', 'Ended'] as const) expect(() => c.transitionForTesting(to)).toThrow(IllegalCallTransition);
    expect(c.closed).toBe(true);
  });

  it('an application that answers and hangs up at once sends its BYE only once the ACK of its 200 came (RFC 3261 §15)', async () => {
    const hungUp = deferred();
    const { peer, ended } = await call(async (h) => {
      await h.answer();
      await h.hangup();
      hungUp.resolve();
      // Over for the application: a verb after its hang-up refuses.
      await expect(h.play({ tone: 440, durationMs: 100 })).rejects.toBeInstanceOf(CallEndedError);
    });
    await peer.response(200);
    await hungUp.promise;
    expect(peer.requests('BYE')).toHaveLength(0);
    peer.ack();
    await expect.poll(() => peer.requests('BYE').length).toBe(1);
    expect(await ended()).toMatchObject({ result: 'answered', hangupBy: 'callee' });
  });

  it('without an ACK for its 200, the call ends at once and its session sends the BYE after 64*T1, the call gone', async () => {
    const { call: c, peer, ended } = await call(async (h) => {
      await h.answer();
      await h.hangup();
    });
    await peer.response(200);
    await c.close();
    expect(await ended()).toMatchObject({ result: 'answered', hangupBy: 'callee' });
    expect(c.closed).toBe(true);
    expect(peer.requests('BYE')).toHaveLength(0);
    // T1 is 50 ms in these tests: the ACK wait is 3.2 s, then the session sends the BYE it held (RFC 3261 §13.3.1.4).
    await expect.poll(() => peer.requests('BYE').length, { timeout: 10_000 }).toBe(1);
  });

  it('a CANCEL while the record is written (Starting): 487, the application never runs, cancelled', async () => {
    const record = deferred<{ callId: string; legId: string }>();
    let ran = false;
    const { call: c, peer, ended, states } = await call(async () => {
      ran = true;
    }, { openRecord: () => record.promise });
    expect(c.state).toBe('Starting');
    peer.cancel();
    await peer.response(200, 'CANCEL');
    await peer.response(487);
    expect(c.signal.aborted).toBe(true);
    record.resolve({ callId: randomUUID(), legId: randomUUID() });
    expect(await ended()).toMatchObject({ result: 'cancelled', hangupBy: 'caller' });
    expect(ran).toBe(false);
    expect(states).toEqual(['Ending', 'Ended']);
  });

  it('a CANCEL while the application holds the call unanswered (Offered): 487, the signal fires, the waiting verb rejects with CallEndedError', async () => {
    const outcome = deferred<unknown>();
    const { call: c, peer, ended } = await call(async (h) => {
      outcome.resolve(await h.collect({ maxDigits: 1, timeoutMs: 60_000 }).catch((err: unknown) => err));
      // Every verb refuses from now on.
      await expect(h.answer()).rejects.toBeInstanceOf(CallEndedError);
      await expect(h.play({ tone: 440, durationMs: 100 })).rejects.toBeInstanceOf(CallEndedError);
    });
    await expect.poll(() => c.state).toBe('Offered');
    peer.cancel();
    await peer.response(487);
    expect(await outcome.promise).toBeInstanceOf(CallEndedError);
    expect(await ended()).toMatchObject({ result: 'cancelled', hangupBy: 'caller' });
    expect(peer.requests('BYE')).toHaveLength(0);
  });

  it('a CANCEL after the answer only gets its 200: the call goes on', async () => {
    const hold = deferred();
    const { call: c, peer, ended } = await call(async (h) => {
      await h.answer();
      await hold.promise;
      await h.hangup();
    });
    await peer.response(200);
    peer.ack();
    peer.cancel();
    await peer.response(200, 'CANCEL');
    expect(c.state).toBe('Answered');
    expect(c.signal.aborted).toBe(false);
    hold.resolve();
    expect(await ended()).toMatchObject({ result: 'answered', hangupBy: 'callee' });
  });

  it('a BYE mid-prompt (Answered): 200 to it, the prompt rejects, the endpoint is closed, answered and hung up by the caller', async () => {
    const outcome = deferred<unknown>();
    const { call: c, peer, ended, forgotten } = await call(async (h) => {
      await h.answer();
      outcome.resolve(await h.play({ tone: 440, durationMs: 10_000 }).catch((err: unknown) => err));
    });
    await peer.response(200);
    peer.ack();
    await expect.poll(() => media.liveCounts().bridges).toBe(1);
    peer.bye();
    await peer.response(200, 'BYE');
    expect(await outcome.promise).toBeInstanceOf(CallEndedError);
    const end = await ended();
    expect(end).toMatchObject({ result: 'answered', hangupBy: 'caller' });
    expect(media.liveCounts()).toMatchObject({ bridges: 0, endpoints: 0 });
    expect(forgotten).toEqual([c]);
    // We do not answer a BYE with one of ours.
    expect(peer.requests('BYE')).toHaveLength(0);
  });

  it('a BYE while recording ends the recording with reason hangup; the file is the application\'s until it returns, then deleted if left', async () => {
    const outcome = deferred<Awaited<ReturnType<CallHandle['record']>>>();
    const checked = deferred();
    const before = recordingsMade();
    const { peer, ended } = await call(async (h) => {
      outcome.resolve(await h.record({ maxSeconds: 60, terminators: '#' }));
      await checked.promise;
    });
    await peer.response(200);
    peer.ack();
    await expect.poll(recordingsMade, { timeout: 10_000 }).toBeGreaterThan(before);
    peer.bye();
    const rec = await outcome.promise;
    expect(rec.reason).toBe('hangup');
    expect(fs.existsSync(rec.path)).toBe(true);
    // Mono: the caller alone.
    expect(fs.readFileSync(rec.path).readUInt16LE(22)).toBe(1);
    checked.resolve();
    expect(await ended()).toMatchObject({ result: 'answered', hangupBy: 'caller' });
    // Not moved away (deposited) by the application: nobody keeps it.
    expect(fs.existsSync(rec.path)).toBe(false);
  });

  it('close() cascades: BYE to the caller, the session and the media endpoint closed, Ended', async () => {
    const outcome = deferred<unknown>();
    const { call: c, peer } = await call(async (h) => {
      await h.answer();
      outcome.resolve(await h.play({ tone: 440, durationMs: 10_000 }).catch((err: unknown) => err));
    });
    await peer.response(200);
    peer.ack();
    await expect.poll(() => media.liveCounts().bridges).toBe(1);
    await c.close();
    expect(c.state).toBe('Ended');
    expect(c.closed).toBe(true);
    expect(peer.requests('BYE')).toHaveLength(1);
    expect(media.liveCounts()).toMatchObject({ bridges: 0, endpoints: 0 });
    expect(await outcome.promise).toBeInstanceOf(CallEndedError);
    // A second close is a no-op.
    await c.close();
    expect(peer.requests('BYE')).toHaveLength(1);
  });
});

describe('a late offer (RFC 3261 §13.2.1)', () => {
  it('offers every codec in the 200, and sends the prompt where the answer in the ACK says', async () => {
    const rtp = dgram.createSocket('udp4');
    let packets = 0;
    rtp.on('message', () => packets++);
    await new Promise<void>((resolve) => rtp.bind(0, '127.0.0.1', resolve));
    const port = (rtp.address() as AddressInfo).port;
    const played = deferred();
    const hold = deferred();
    try {
      const { peer } = await call(async (h) => {
        await h.answer();
        played.resolve();
        await h.play({ tone: 440, durationMs: 2000 });
        await hold.promise;
      }, { lateOffer: true });
      const ok = await peer.response(200);
      const offer = ok.body.toString('utf8');
      expect(offer).toMatch(/m=audio \d+ RTP\/AVP( \d+)+/);
      expect(offer).toContain('PCMU/8000');
      expect(offer).toContain('PCMA/8000');
      await played.promise;
      peer.ack(SDP.replace('40000', String(port)));
      await expect.poll(() => packets, { timeout: 10_000 }).toBeGreaterThan(10);
    } finally {
      hold.resolve();
      rtp.close();
    }
  });
});

describe('the verbs', () => {
  it('collect: digits until a terminator, which is not part of them', async () => {
    const outcome = deferred<unknown>();
    const { peer } = await call(async (h) => {
      await h.answer();
      outcome.resolve(await h.collect({ maxDigits: 6, timeoutMs: 20_000, terminators: '#' }));
      await h.hangup();
    });
    await peer.response(200);
    peer.ack();
    for (const d of ['4', '2', '#']) {
      peer.digit(d);
      await peer.response(200, 'INFO');
    }
    expect(await outcome.promise).toEqual({ digits: '42', reason: 'terminator', terminator: '#' });
  });

  it('collect: stops at maxDigits, and at the inter-digit timeout', async () => {
    const outcomes: unknown[] = [];
    const second = deferred();
    const { peer } = await call(async (h) => {
      await h.answer();
      outcomes.push(await h.collect({ maxDigits: 2, timeoutMs: 20_000 }));
      second.resolve();
      outcomes.push(await h.collect({ maxDigits: 4, timeoutMs: 20_000, interDigitTimeoutMs: 300 }));
      await h.hangup();
    });
    await peer.response(200);
    peer.ack();
    peer.digit('1');
    peer.digit('2');
    await second.promise;
    peer.digit('7');
    await expect.poll(() => outcomes.length, { timeout: 10_000 }).toBe(2);
    expect(outcomes).toEqual([
      { digits: '12', reason: 'max-digits', terminator: null },
      { digits: '7', reason: 'timeout', terminator: null },
    ]);
  });

  it('collect: a first-digit timeout with no digit', async () => {
    const outcome = deferred<unknown>();
    const { peer } = await call(async (h) => {
      await h.answer();
      outcome.resolve(await h.collect({ maxDigits: 3, timeoutMs: 200 }));
    });
    await peer.response(200);
    expect(await outcome.promise).toEqual({ digits: '', reason: 'timeout', terminator: null });
  });

  it('play with barge-in: a digit cuts the prompt short and is returned', async () => {
    const outcome = deferred<unknown>();
    const { peer } = await call(async (h) => {
      await h.answer();
      outcome.resolve(await h.play({ tone: 440, durationMs: 10_000 }, { bargeIn: true }));
    });
    await peer.response(200);
    peer.ack();
    await expect.poll(() => media.liveCounts().bridges).toBe(1);
    peer.digit('5');
    expect(await outcome.promise).toEqual({ digit: '5' });
  });

  it('record: # ends it (terminator), after the beep', async () => {
    const outcome = deferred<unknown>();
    const before = recordingsMade();
    const { peer } = await call(async (h) => {
      outcome.resolve(await h.record({ maxSeconds: 60, terminators: '#', beep: true }));
      await h.hangup();
    });
    await peer.response(200);
    peer.ack();
    // Once the recording runs (after the beep): a digit before it would not count.
    await expect.poll(recordingsMade, { timeout: 10_000 }).toBeGreaterThan(before);
    peer.digit('#');
    expect(await outcome.promise).toMatchObject({ reason: 'terminator', terminator: '#' });
  });

  it('record: stops at maxSeconds', async () => {
    const outcome = deferred<Awaited<ReturnType<CallHandle['record']>>>();
    const { peer } = await call(async (h) => {
      outcome.resolve(await h.record({ maxSeconds: 1 }));
      await h.hangup();
    });
    await peer.response(200);
    const rec = await outcome.promise;
    expect(rec.reason).toBe('max-length');
    expect(rec.durationMs).toBeGreaterThan(500);
  });

  it('bridgeTo, joinRoom as a whisper and park are refused with UnsupportedVerbError, a transfer to no extension with DestinationRefusedError; reject ends an unanswered call with its status', async () => {
    const errors: unknown[] = [];
    const { peer, ended } = await call(async (h) => {
      errors.push(
        await h.bridgeTo({ kind: 'reject', status: 480, reason: 'x', result: 'unavailable' }).catch((e: unknown) => e),
        await h.joinRoom({ accountId: h.accountId, roomId: 'r' }, 'whisper').catch((e: unknown) => e),
        await h.park(null).catch((e: unknown) => e),
        await h.transfer('102').catch((e: unknown) => e),
      );
      await h.reject(486, 'Busy Here');
    });
    await peer.response(486);
    expect(errors).toHaveLength(4);
    for (const e of errors.slice(0, 3)) expect(e).toBeInstanceOf(UnsupportedVerbError);
    expect(errors[3]).toBeInstanceOf(DestinationRefusedError);
    expect((errors[3] as DestinationRefusedError).status).toBe(404);
    expect(await ended()).toMatchObject({ result: 'busy', hangupBy: null });
  });

  it('transfer: the destination\'s application takes over the same call, and hand-overs in a loop stop after ten', async () => {
    const asked: string[] = [];
    const seen: string[] = [];
    let refused: unknown = null;
    const announcement: CallApp = async (h, d) => {
      seen.push(`${h.id} ${d.kind}`);
      await h.answer();
      await h.play({ tone: 700, durationMs: 100 });
    };
    const loop: CallApp = async (h) => {
      await h.transfer('500').catch((e: unknown) => {
        refused ??= e;
      });
    };
    const { ended, peer } = await call(
      async (h) => {
        seen.push(`${h.id} first`);
        await h.transfer('600');
        await h.transfer('500');
      },
      {
        openRecord: () => Promise.resolve({ callId: 'call-1', legId: 'leg-1' }),
        transferTarget: (accountId, number, direction) => {
          asked.push(`${accountId === CALLER.accountId} ${number} ${direction}`);
          const destination = { kind: 'announcement', accountId, extensionId: randomUUID(), extensionNumber: number, direction } as const;
          return Promise.resolve({ destination, app: number === '600' ? announcement : loop });
        },
      },
    );
    await peer.response(200);
    peer.ack();
    expect(await ended()).toMatchObject({ result: 'answered', hangupBy: 'callee' });
    expect(seen).toEqual(['call-1 first', 'call-1 announcement']);
    // One hand-over to 600, then 500 handing on to itself until the tenth is refused.
    expect(asked).toEqual(['true 600 internal', ...Array.from({ length: 9 }, () => 'true 500 internal')]);
    expect(refused).toBeInstanceOf(DestinationRefusedError);
    expect((refused as DestinationRefusedError).status).toBe(482);
  });
});

describe('joinRoom', () => {
  const ref = { accountId: CALLER.accountId, roomId: 'bridge-1' };

  it('opens the room with its first member, moves each caller\'s endpoint in, and closes it with its last; leave puts the caller back with the application', async () => {
    const leave = new AbortController();
    const exits: unknown[] = [];
    const afterLeave = deferred();
    const first = await call(async (h) => {
      exits.push(await h.joinRoom(ref, 'moderator', { leave: leave.signal }));
      // Back in its bridge: the application can play to it again.
      await h.play({ tone: 440, durationMs: 100 });
      afterLeave.resolve();
      // Until the caller hangs up (the verb rejects then).
      await h.collect({ maxDigits: 1, timeoutMs: 60_000 });
    });
    await first.peer.response(200);
    first.peer.ack();
    await expect.poll(() => media.liveCounts(), { timeout: 10_000 }).toMatchObject({ rooms: 1, bridges: 1, endpoints: 1 });
    const second = await call(async (h) => {
      exits.push(await h.joinRoom(ref, 'speaker'));
    });
    await second.peer.response(200);
    second.peer.ack();
    // One room for both (2 endpoints in it), each call's bridge empty.
    await expect.poll(() => media.liveCounts(), { timeout: 10_000 }).toMatchObject({ rooms: 1, bridges: 2, endpoints: 2, legs: 2 });
    leave.abort();
    await afterLeave.promise;
    expect(exits).toEqual([{ reason: 'left' }]);
    expect(media.liveCounts()).toMatchObject({ rooms: 1, bridges: 2, endpoints: 2 });
    // The last member hangs up: the room closes, its endpoint with it.
    second.peer.bye();
    expect(await second.ended()).toMatchObject({ result: 'answered', hangupBy: 'caller' });
    expect(exits).toEqual([{ reason: 'left' }, { reason: 'hangup' }]);
    await expect.poll(() => media.liveCounts(), { timeout: 10_000 }).toMatchObject({ rooms: 0, bridges: 1, endpoints: 1 });
    first.peer.bye();
    await first.ended();
  });

  it('refuses a member past the capacity with RoomFullError, and the room still closes when its members hang up', async () => {
    const inRoom = async (h: CallHandle) => {
      await h.joinRoom(ref, 'speaker', { muted: true });
    };
    const a = await call(inRoom);
    const b = await call(inRoom);
    await expect.poll(() => media.liveCounts(), { timeout: 10_000 }).toMatchObject({ rooms: 1, endpoints: 2 });
    let refused: unknown = null;
    const c = await call(async (h) => {
      refused = await h.joinRoom(ref, 'speaker').catch((e: unknown) => e);
    });
    // Our BYE waits for the ACK of our 200 (RFC 3261 §15).
    await c.peer.response(200);
    c.peer.ack();
    expect((await c.ended()).result).toBe('answered');
    expect(refused).toBeInstanceOf(RoomFullError);
    a.peer.bye();
    b.peer.bye();
    await a.ended();
    await b.ended();
    expect(media.liveCounts()).toMatchObject({ rooms: 0, endpoints: 0 });
  });

  it('setRoomMute outside a room is an error; a listener stays muted', async () => {
    const results: unknown[] = [];
    const leave = new AbortController();
    const { ended, peer } = await call(async (h) => {
      results.push(await h.setRoomMute(true).catch((e: unknown) => (e as Error).message));
      const joined = h.joinRoom(ref, 'listener', { leave: leave.signal });
      await expect.poll(() => media.liveCounts().rooms).toBe(1);
      await h.setRoomMute(false);
      leave.abort();
      results.push(await joined);
    });
    // Acknowledged, so that the ACK wait (3.2 s here) does not end the call first on a slow machine.
    await peer.response(200);
    peer.ack();
    await ended();
    expect(results).toEqual(['setRoomMute: the caller is not in a room', { reason: 'left' }]);
  });

  it('pipes a caller whose bridge is on another worker than the room, and closes the pipe when it leaves', async () => {
    const one = { media, rooms };
    const base = 36000 + Math.floor(Math.random() * 50) * 40;
    media = await MediaEngine.start({ workers: 2, portRange: { min: base, max: base + 39 }, bindAddress: '127.0.0.1' });
    rooms = new RoomRegistry(media);
    const two = media;
    try {
      const inRoom = async (h: CallHandle) => {
        await h.joinRoom(ref, 'speaker');
      };
      const a = await call(inRoom);
      await expect.poll(() => media.liveCounts(), { timeout: 10_000 }).toMatchObject({ rooms: 1, bridges: 1 });
      // The second call's bridge goes to the other worker (the least loaded): it reaches the room by a pipe.
      const b = await call(inRoom);
      await expect.poll(() => media.liveCounts(), { timeout: 10_000 }).toMatchObject({ rooms: 1, bridges: 2, pipes: 1, legs: 2, endpoints: 4 });
      b.peer.bye();
      await b.ended();
      expect(media.liveCounts()).toMatchObject({ rooms: 1, bridges: 1, pipes: 0, endpoints: 1 });
      a.peer.bye();
      await a.ended();
      expect(media.liveCounts()).toMatchObject({ rooms: 0, bridges: 0, pipes: 0, endpoints: 0 });
    } finally {
      await Promise.all(running.splice(0).map((c) => c.close()));
      ({ media, rooms } = one);
      await two.stop();
    }
  });
});
