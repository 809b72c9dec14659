import { afterEach, describe, expect, it } from 'vitest';
import {
  createResponse,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '../../src/sip/message/index.ts';
import {
  acceptCancel,
  InviteServerTransaction,
  NonInviteServerTransaction,
  TransactionStateError,
  type ServerTransaction,
} from '../../src/sip/transaction/index.ts';
import type { SipSource } from '../../src/sip/transport/index.ts';
import { eventually, sleep } from './support/inbox.ts';
import { StreamPeer, UdpPeer } from './support/peers.ts';
import { branch, rawRequest } from './support/requests.ts';
import { FAST_TIMERS, startStack } from './support/stack.ts';

const running: { stop(): unknown }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

interface Seen {
  request: SipRequest;
  tx: ServerTransaction;
  source: SipSource;
}

async function setup(
  answer?: (request: SipRequest, tx: InviteServerTransaction | NonInviteServerTransaction) => void,
) {
  const stack = await startStack();
  running.push(stack);
  const peer = await UdpPeer.open();
  running.push({ stop: () => peer.close() });
  const seen: Seen[] = [];
  const acks: SipRequest[] = [];
  stack.layer.onRequest((request, tx, source) => {
    seen.push({ request, tx, source });
    answer?.(request, tx);
  });
  stack.layer.onAck((ack) => acks.push(ack));
  const send = (raw: string) => peer.send(raw, stack.ports.UDP!);
  return { ...stack, peer, seen, acks, send };
}

const status = (code: number, cseqMethod?: string) => (m: SipMessage) =>
  m.kind === 'response' && m.status === code && (cseqMethod === undefined || m.cseq.method === cseqMethod);
const count = (peer: UdpPeer, code: number) => peer.inbox.all(status(code)).length;
const T1 = FAST_TIMERS.T1!;

describe('INVITE server transaction (RFC 3261 §17.2.1)', () => {
  it('sends 100 Trying when the TU has not answered within 200 ms', async () => {
    const { peer, send, seen } = await setup();
    const sentAt = Date.now();
    await send(rawRequest('INVITE', { port: peer.port, headers: ['Timestamp: 54'] }));
    const trying = (await peer.inbox.next(status(100))) as SipResponse;
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(195);
    expect(trying.to()!.params.has('tag')).toBe(false);
    expect(trying.get('timestamp')).toBe('54');
    seen[0]!.tx.respond(createResponse(seen[0]!.request, 180));
    await peer.inbox.next(status(180));
  });

  it('sends no 100 Trying when the TU answers first', async () => {
    const { peer, send } = await setup((request, tx) => tx.respond(createResponse(request, 180)));
    await send(rawRequest('INVITE', { port: peer.port }));
    await peer.inbox.next(status(180));
    await sleep(300);
    expect(count(peer, 100)).toBe(0);
  });

  it('answers a retransmitted INVITE with the latest provisional response and does not bother the TU', async () => {
    const { peer, send, seen } = await setup((request, tx) =>
      tx.respond(createResponse(request, 180, { toTag: 'uas' })),
    );
    const invite = rawRequest('INVITE', { port: peer.port });
    await send(invite);
    await peer.inbox.next(status(180));
    await send(invite);
    await peer.inbox.next(status(180));
    expect(seen).toHaveLength(1);
  });

  it('retransmits a non-2xx final response on Timer G until the ACK, which it absorbs (§17.2.1)', async () => {
    const { peer, send, acks, layer, seen } = await setup((request, tx) =>
      tx.respond(createResponse(request, 486, { toTag: 'uas' })),
    );
    const b = branch();
    const sentAt = Date.now();
    await send(rawRequest('INVITE', { port: peer.port, branch: b }));
    // Copies at 0, T1, 3·T1 (never earlier): wait for the third before acknowledging.
    await eventually(() => count(peer, 486) === 3, 2_000, 'two retransmissions');
    const times = peer.inbox.items.filter((r) => status(486)(r.message)).map((r) => r.at - sentAt);
    expect(times[1]!).toBeGreaterThanOrEqual(T1 - 5);
    expect(times[2]!).toBeGreaterThanOrEqual(3 * T1 - 5);
    const tx = seen[0]!.tx;
    await send(rawRequest('ACK', { port: peer.port, branch: b, to: '<sip:service@127.0.0.1>;tag=uas' }));
    await eventually(() => tx.state === 'Confirmed', 1_000, 'Confirmed');
    const copies = count(peer, 486);
    await sleep(6 * T1);
    expect(count(peer, 486)).toBe(copies);
    expect(acks).toHaveLength(0);
    // Timer I = T4, then the transaction is gone.
    await eventually(() => layer.transactionCount.server === 0, 1_000, 'Timer I');
  });

  it('reports Timer H to the TU when the ACK never comes', async () => {
    const timeouts: string[] = [];
    const { peer, send } = await setup((request, tx) => {
      tx.user = { onTimeout: () => timeouts.push(request.callId) };
      tx.respond(createResponse(request, 603));
    });
    await send(rawRequest('INVITE', { port: peer.port, callId: 'no-ack' }));
    await eventually(() => timeouts.length === 1, 64 * T1 + 1_000, 'Timer H');
    expect(timeouts).toEqual(['no-ack@test']);
    // G doubles up to T2 within H = 64·T1: copies at 0, 1, 3, 7, 15, 23, 31 … 63 T1.
    expect(count(peer, 603)).toBe(11);
  });

  it('hands the ACK of a 2xx to the TU and resends the 2xx for a retransmitted INVITE (RFC 6026 Accepted)', async () => {
    const { peer, send, acks, seen } = await setup((request, tx) =>
      tx.respond(createResponse(request, 200, { toTag: 'uas' })),
    );
    const invite = rawRequest('INVITE', { port: peer.port, callId: 'ok' });
    await send(invite);
    await peer.inbox.next(status(200));
    expect(seen[0]!.tx.state).toBe('Accepted');
    await send(invite);
    await peer.inbox.next(status(200));
    expect(seen).toHaveLength(1);
    // The 2xx ACK is a transaction of its own, with a new branch.
    await send(rawRequest('ACK', { port: peer.port, callId: 'ok', to: '<sip:service@127.0.0.1>;tag=uas' }));
    await eventually(() => acks.length === 1, 1_000, 'ACK to the TU');
    expect(acks[0]!.callId).toBe('ok@test');
    expect(() => seen[0]!.tx.respond(createResponse(seen[0]!.request, 486))).toThrow(TransactionStateError);
  });

  it('over TCP, sends the final response once: no Timer G on a reliable transport', async () => {
    const { ports } = await setup((request, tx) =>
      tx.respond(createResponse(request, 486, { toTag: 'uas' })),
    );
    const peer = await StreamPeer.connect(ports.TCP!);
    running.push({ stop: () => peer.close() });
    await peer.write(rawRequest('INVITE', { port: peer.localPort, transport: 'TCP' }));
    await peer.inbox.next(status(486));
    await sleep(8 * T1);
    expect(peer.inbox.all(status(486))).toHaveLength(1);
  });
});

describe('non-INVITE server transaction (RFC 3261 §17.2.2)', () => {
  it('absorbs a retransmitted request by resending the last response', async () => {
    const { peer, send, seen } = await setup((request, tx) => tx.respond(createResponse(request, 200)));
    const options = rawRequest('OPTIONS', { port: peer.port });
    await send(options);
    await peer.inbox.next(status(200));
    await send(options);
    await send(options);
    await peer.inbox.next(status(200));
    await peer.inbox.next(status(200));
    expect(seen).toHaveLength(1);
    expect(seen[0]!.tx).toBeInstanceOf(NonInviteServerTransaction);
  });

  it('discards retransmissions while the TU has not answered yet, then answers once', async () => {
    const { peer, send, seen } = await setup();
    const options = rawRequest('OPTIONS', { port: peer.port });
    await send(options);
    await send(options);
    await eventually(() => seen.length === 1, 1_000, 'request');
    await sleep(50);
    expect(peer.inbox.items).toHaveLength(0);
    seen[0]!.tx.respond(createResponse(seen[0]!.request, 202));
    await peer.inbox.next(status(202));
    expect(seen).toHaveLength(1);
    expect(() => seen[0]!.tx.respond(createResponse(seen[0]!.request, 200))).toThrow(TransactionStateError);
  });

  it('matches on branch, sent-by and method: the same branch from another sent-by is a new transaction (§17.2.3)', async () => {
    const { peer, send, seen } = await setup((request, tx) => tx.respond(createResponse(request, 200)));
    const b = branch();
    await send(rawRequest('OPTIONS', { port: peer.port, branch: b }));
    await send(rawRequest('OPTIONS', { port: peer.port, branch: b, host: 'other.example' }));
    await send(rawRequest('MESSAGE', { port: peer.port, branch: b }));
    await eventually(() => seen.length === 3, 1_000, 'three transactions');
  });

  it('ends after Timer J on UDP, and at once on TCP', async () => {
    const { peer, send, layer, ports } = await setup((request, tx) =>
      tx.respond(createResponse(request, 200)),
    );
    await send(rawRequest('OPTIONS', { port: peer.port }));
    await peer.inbox.next(status(200));
    // Over UDP the completed transaction is kept as its serialized response only, for Timer J.
    expect(layer.transactionCount).toMatchObject({ server: 0, completed: 1 });
    await sleep(32 * T1);
    expect(layer.transactionCount.completed).toBe(1);
    await eventually(() => layer.transactionCount.completed === 0, 64 * T1, 'Timer J');
    const tcp = await StreamPeer.connect(ports.TCP!);
    running.push({ stop: () => tcp.close() });
    await tcp.write(rawRequest('OPTIONS', { port: tcp.localPort, transport: 'TCP' }));
    await tcp.inbox.next(status(200));
    // Timer J is zero: the transaction ends with the send, long before UDP's 64·T1.
    await eventually(() => layer.transactionCount.server === 0, 16 * T1, 'Timer J = 0');
  });

  it('answers 500 when the TU throws before answering, and 501 when there is no TU', async () => {
    const { peer, send } = await setup(() => {
      throw new Error('TU bug');
    });
    await send(rawRequest('OPTIONS', { port: peer.port }));
    expect(await peer.inbox.next()).toMatchObject({ status: 500 });
    const bare = await startStack();
    running.push(bare);
    await peer.send(rawRequest('OPTIONS', { port: peer.port }), bare.ports.UDP!);
    expect(await peer.inbox.next()).toMatchObject({ status: 501 });
  });
});

describe('CANCEL (RFC 3261 §9.2)', () => {
  it('reaches the TU with the INVITE server transaction it cancels; acceptCancel answers 200 and 487 with one To tag', async () => {
    const { peer, send, seen, layer, acks } = await setup((request, tx) =>
      tx.respond(createResponse(request, 180, { toTag: 'ring' })),
    );
    const cancels: { cancel: SipRequest; invite: InviteServerTransaction }[] = [];
    layer.onCancel((cancel, cancelTx, inviteTx) => {
      cancels.push({ cancel, invite: inviteTx });
      acceptCancel(cancelTx, inviteTx);
    });
    const b = branch();
    await send(rawRequest('INVITE', { port: peer.port, branch: b, callId: 'cx' }));
    await peer.inbox.next(status(180));
    await send(rawRequest('CANCEL', { port: peer.port, branch: b, callId: 'cx' }));
    const ok = await peer.inbox.next(status(200, 'CANCEL'));
    const terminated = await peer.inbox.next(status(487, 'INVITE'));
    expect(cancels).toHaveLength(1);
    expect(cancels[0]!.invite).toBe(seen[0]!.tx);
    expect(seen).toHaveLength(1);
    expect(ok.to()!.params.get('tag')).toBe('ring');
    expect(terminated.to()!.params.get('tag')).toBe('ring');
    // The ACK for the 487 matches the INVITE transaction and stops there.
    await send(
      rawRequest('ACK', { port: peer.port, branch: b, callId: 'cx', to: '<sip:service@127.0.0.1>;tag=ring' }),
    );
    await eventually(() => seen[0]!.tx.state === 'Confirmed', 1_000, 'Confirmed');
    expect(acks).toHaveLength(0);
  });

  it('without an onCancel handler, the layer itself answers 200 to the CANCEL and 487 to the INVITE', async () => {
    const { peer, send } = await setup();
    const b = branch();
    await send(rawRequest('INVITE', { port: peer.port, branch: b, callId: 'cy' }));
    await send(rawRequest('CANCEL', { port: peer.port, branch: b, callId: 'cy' }));
    await peer.inbox.next(status(200, 'CANCEL'));
    await peer.inbox.next(status(487, 'INVITE'));
  });

  it('answers 481 to a CANCEL that matches no INVITE, and absorbs its retransmission', async () => {
    const { peer, send, seen, layer } = await setup();
    const cancels: SipRequest[] = [];
    layer.onCancel((cancel) => cancels.push(cancel));
    const cancel = rawRequest('CANCEL', { port: peer.port });
    await send(cancel);
    await peer.inbox.next(status(481));
    await send(cancel);
    await peer.inbox.next(status(481));
    expect(cancels).toHaveLength(0);
    expect(seen).toHaveLength(0);
  });

  it('only answers 200 to the CANCEL once the INVITE already has its final response', async () => {
    const { peer, send, layer } = await setup((request, tx) =>
      tx.respond(createResponse(request, 200, { toTag: 'done' })),
    );
    layer.onCancel((_cancel, cancelTx, inviteTx) => acceptCancel(cancelTx, inviteTx));
    const b = branch();
    await send(rawRequest('INVITE', { port: peer.port, branch: b }));
    await peer.inbox.next(status(200, 'INVITE'));
    await send(rawRequest('CANCEL', { port: peer.port, branch: b }));
    expect((await peer.inbox.next(status(200, 'CANCEL'))).to()!.params.get('tag')).toBe('done');
    await sleep(50);
    expect(peer.inbox.all(status(487))).toHaveLength(0);
  });
});
