import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createResponse,
  SipRequest,
  type SipMessage,
  type SipResponse,
} from '../../src/sip/message/index.ts';
import { InviteClientTransaction, type ClientTransactionUser } from '../../src/sip/transaction/index.ts';
import { StreamFramer } from '../../src/sip/transport/index.ts';
import { eventually, Inbox, sleep } from './support/inbox.ts';
import { UdpPeer } from './support/peers.ts';
import { startStack } from './support/stack.ts';

const running: { stop(): unknown }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

async function setup(timers = { T1: 50, T2: 400, T4: 250, D: 500 }) {
  const stack = await startStack(timers);
  running.push(stack);
  const peer = await UdpPeer.open();
  running.push({ stop: () => peer.close() });
  return { ...stack, peer, target: { transport: 'UDP' as const, host: '127.0.0.1', port: peer.port } };
}

function request(
  method: string,
  callId = `${method.toLowerCase()}-${Math.random().toString(36).slice(2)}`,
): SipRequest {
  return new SipRequest(method, 'sip:bob@127.0.0.1', [
    { name: 'max-forwards', value: '70' },
    { name: 'from', value: '<sip:alice@carillon.test>;tag=near' },
    { name: 'to', value: '<sip:bob@127.0.0.1>' },
    { name: 'call-id', value: callId },
    { name: 'cseq', value: `1 ${method}` },
    { name: 'route', value: '<sip:proxy.test;lr>' },
  ]);
}

/** Records every callback a client transaction makes. */
function recorder() {
  const responses: SipResponse[] = [];
  const timeouts: SipResponse[] = [];
  const transportErrors: { error: Error; response: SipResponse }[] = [];
  const user: ClientTransactionUser = {
    onResponse: (r) => responses.push(r),
    onTimeout: (r) => timeouts.push(r),
    onTransportError: (error, response) => transportErrors.push({ error, response }),
  };
  return { user, responses, timeouts, transportErrors };
}

const method = (name: string) => (m: SipMessage) => m.kind === 'request' && m.method === name;
const arrivals = (inbox: Inbox, name: string) =>
  inbox.items.filter((r) => method(name)(r.message)).map((r) => r.at);
/**
 * Each copy arrives no earlier than its planned offset from the moment the
 * request was handed over (timers never fire early), and not much later: the
 * slack absorbs a busy machine without hiding a wrong schedule.
 */
function expectSchedule(times: number[], started: number, planned: number[]) {
  expect(times).toHaveLength(planned.length);
  times.forEach((t, i) => {
    expect(t - started).toBeGreaterThanOrEqual(planned[i]! - 5);
    expect(t - started).toBeLessThan(planned[i]! + 250);
  });
}

describe('INVITE client transaction (RFC 3261 §17.1.1)', () => {
  it('over UDP, retransmits on Timer A with doubling intervals until Timer B fires, then reports a 408', async () => {
    const T1 = 60;
    const { layer, peer, target } = await setup({ T1, T2: 8 * T1, T4: 250, D: 500 });
    const rec = recorder();
    const started = Date.now();
    const tx = layer.sendRequest(request('INVITE'), target, rec.user);
    await eventually(() => rec.timeouts.length === 1, 64 * T1 + 2_000, 'Timer B');
    // Sent at 0, T1, 3T1, 7T1, 15T1, 31T1, 63T1; B fires at 64T1.
    expectSchedule(
      arrivals(peer.inbox, 'INVITE'),
      started,
      [0, 1, 3, 7, 15, 31, 63].map((n) => n * T1),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(64 * T1 - 5);
    expect(rec.timeouts[0]!.status).toBe(408);
    expect(rec.timeouts[0]!.callId).toBe(tx.request.callId);
    expect(rec.responses).toHaveLength(0);
    expect(tx.state).toBe('Terminated');
    expect(layer.transactionCount.client).toBe(0);
  });

  it('puts its own Via on a copy of the request: fresh branch, rport, the configured sent-by', async () => {
    const { layer, target, ports, peer } = await setup();
    const original = request('INVITE');
    const tx = layer.sendRequest(original, target);
    const sent = (await peer.inbox.next(method('INVITE'))) as SipRequest;
    expect(original.has('via')).toBe(false);
    const via = sent.topVia()!;
    expect([via.transport, via.host, via.port]).toEqual(['UDP', '127.0.0.1', ports.UDP]);
    expect(via.params.get('branch')).toMatch(/^z9hG4bK/);
    expect(via.params.get('branch')).toBe(tx.branch);
    expect(via.params.has('rport')).toBe(true);
    expect(tx).toBeInstanceOf(InviteClientTransaction);
  });

  it('over TCP, never retransmits, yet Timer B still ends the transaction', async () => {
    const T1 = 20;
    const stack = await startStack({ T1, T2: 8 * T1, T4: 250, D: 500 });
    running.push(stack);
    const far = net.createServer();
    const sockets: net.Socket[] = [];
    let invites = 0;
    far.on('connection', (socket) => {
      sockets.push(socket);
      const framer = new StreamFramer(65_535);
      socket.on(
        'data',
        (chunk) => (invites += framer.push(chunk).filter((e) => e.kind === 'message').length),
      );
    });
    await new Promise<void>((resolve) => far.listen(0, '127.0.0.1', resolve));
    running.push({
      stop: () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          far.close(() => resolve());
        }),
    });
    const rec = recorder();
    const tx = stack.layer.sendRequest(
      request('INVITE'),
      { transport: 'TCP', host: '127.0.0.1', port: (far.address() as net.AddressInfo).port },
      rec.user,
    );
    await eventually(() => rec.timeouts.length === 1, 64 * T1 + 2_000, 'Timer B');
    expect(invites).toBe(1);
    expect(tx.reliable).toBe(true);
    expect(tx.request.topVia()!.transport).toBe('TCP');
  });

  it('acknowledges a non-2xx final response itself and re-sends that ACK, not the response, on retransmission (§17.1.1.3)', async () => {
    const { layer, peer, target, ports } = await setup();
    const rec = recorder();
    const tx = layer.sendRequest(request('INVITE'), target, rec.user);
    const invite = (await peer.inbox.next(method('INVITE'))) as SipRequest;
    const busy = createResponse(invite, 486, { toTag: 'far' });
    await peer.send(busy, ports.UDP!);
    const ack = (await peer.inbox.next(method('ACK'))) as SipRequest;
    expect(ack.uri).toBe(invite.uri);
    expect(ack.getAll('via')).toEqual([invite.get('via')]);
    expect(ack.cseq).toEqual({ seq: invite.cseq.seq, method: 'ACK' });
    expect(ack.to()!.params.get('tag')).toBe('far');
    expect(ack.from()!.params.get('tag')).toBe('near');
    expect(ack.getAll('route')).toEqual(['<sip:proxy.test;lr>']);
    expect(tx.state).toBe('Completed');
    await peer.send(busy, ports.UDP!);
    await peer.inbox.next(method('ACK'));
    expect(rec.responses.map((r) => r.status)).toEqual([486]);
    // Timer D (500 ms here) then ends it.
    await eventually(() => tx.state === 'Terminated', 2_000, 'Timer D');
    expect(layer.transactionCount.client).toBe(0);
  });

  it('passes every 2xx to the TU in the Accepted state and sends no ACK of its own (RFC 6026)', async () => {
    const { layer, peer, target, ports } = await setup();
    const rec = recorder();
    const tx = layer.sendRequest(request('INVITE'), target, rec.user);
    const invite = (await peer.inbox.next(method('INVITE'))) as SipRequest;
    const ok = createResponse(invite, 200, { toTag: 'far' });
    await peer.send(createResponse(invite, 180, { toTag: 'far' }), ports.UDP!);
    await peer.send(ok, ports.UDP!);
    await peer.send(ok, ports.UDP!);
    await eventually(() => rec.responses.length === 3, 2_000, 'three responses');
    expect(rec.responses.map((r) => r.status)).toEqual([180, 200, 200]);
    expect(tx.state).toBe('Accepted');
    await sleep(100);
    expect(peer.inbox.all(method('ACK'))).toHaveLength(0);
    // Timer M = 64·T1.
    await eventually(() => tx.state === 'Terminated', 64 * 50 + 1_000, 'Timer M');
  });

  it('cancel() waits for a provisional response, then sends CANCEL on the INVITE branch (§9.1)', async () => {
    const { layer, peer, target, ports } = await setup();
    const inviteRec = recorder();
    const cancelRec = recorder();
    const tx = layer.sendRequest(request('INVITE'), target, inviteRec.user);
    expect(layer.cancel(tx, cancelRec.user)).toBe(true);
    const invite = (await peer.inbox.next(method('INVITE'))) as SipRequest;
    await sleep(120);
    expect(peer.inbox.all(method('CANCEL'))).toHaveLength(0);
    await peer.send(createResponse(invite, 180, { toTag: 'far' }), ports.UDP!);
    const cancel = (await peer.inbox.next(method('CANCEL'))) as SipRequest;
    expect(cancel.topVia()!.params.get('branch')).toBe(tx.branch);
    expect(cancel.cseq).toEqual({ seq: 1, method: 'CANCEL' });
    expect([cancel.uri, cancel.callId, cancel.get('from'), cancel.get('to')]).toEqual([
      invite.uri,
      invite.callId,
      invite.get('from'),
      invite.get('to'),
    ]);
    await peer.send(createResponse(cancel, 200, { toTag: 'far' }), ports.UDP!);
    await peer.send(createResponse(invite, 487, { toTag: 'far' }), ports.UDP!);
    await peer.inbox.next(method('ACK'));
    expect(cancelRec.responses.map((r) => r.status)).toEqual([200]);
    expect(inviteRec.responses.map((r) => r.status)).toEqual([180, 487]);
    expect(layer.cancel(tx)).toBe(false);
  });
});

describe('non-INVITE client transaction (RFC 3261 §17.1.2)', () => {
  it('over UDP, retransmits on Timer E doubling up to T2; Timer F gives the TU a 408 as a response', async () => {
    const { layer, peer, target } = await setup();
    const responses: SipResponse[] = [];
    const started = Date.now();
    const tx = layer.sendRequest(request('OPTIONS'), target, { onResponse: (r) => responses.push(r) });
    await eventually(() => responses.length === 1, 64 * 50 + 2_000, 'Timer F');
    // Sent at 0, 50, 150, 350, 750, 1150 … 3150; F fires at 3200 (the RFC's 11 transmissions).
    expectSchedule(
      arrivals(peer.inbox, 'OPTIONS'),
      started,
      [0, 50, 150, 350, 750, 1150, 1550, 1950, 2350, 2750, 3150],
    );
    expect(responses[0]!.status).toBe(408);
    expect(tx.state).toBe('Terminated');
    expect(() => layer.cancel(tx)).toThrow(TypeError);
  });

  it('after a provisional response, retransmits every T2; a final response stops it and reaches the TU once', async () => {
    const { layer, peer, target, ports } = await setup();
    const rec = recorder();
    const tx = layer.sendRequest(request('MESSAGE'), target, rec.user);
    const message = (await peer.inbox.next(method('MESSAGE'))) as SipRequest;
    await peer.send(createResponse(message, 100), ports.UDP!);
    await eventually(() => tx.state === 'Proceeding', 1_000, 'Proceeding');
    const before = arrivals(peer.inbox, 'MESSAGE').length;
    await eventually(() => arrivals(peer.inbox, 'MESSAGE').length >= before + 4, 4_000, 'four more copies');
    // The first copy after the 1xx may still have been planned while Trying; from it on they are T2 apart.
    const after = arrivals(peer.inbox, 'MESSAGE').slice(before);
    const meanGap = (after[3]! - after[0]!) / 3;
    expect(meanGap).toBeGreaterThanOrEqual(400 - 60);
    expect(meanGap).toBeLessThan(400 + 80);
    const ok = createResponse(message, 200);
    await peer.send(ok, ports.UDP!);
    await peer.send(ok, ports.UDP!);
    await eventually(() => tx.state === 'Completed', 1_000, 'Completed');
    const copies = arrivals(peer.inbox, 'MESSAGE').length;
    await sleep(450);
    expect(arrivals(peer.inbox, 'MESSAGE')).toHaveLength(copies);
    expect(rec.responses.map((r) => r.status)).toEqual([100, 200]);
    // Timer K = T4 (250 ms here).
    await eventually(() => layer.transactionCount.client === 0, 1_000, 'Timer K');
  });

  it('reports a transport failure as a 503 (§8.1.3.1) and ends the transaction', async () => {
    const { layer } = await setup();
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const rec = recorder();
    const tx = layer.sendRequest(request('OPTIONS'), { transport: 'TCP', host: '127.0.0.1', port }, rec.user);
    await eventually(() => rec.transportErrors.length === 1, 2_000, 'transport error');
    expect(rec.transportErrors[0]!.response.status).toBe(503);
    expect(rec.transportErrors[0]!.error.name).toBe('TransportError');
    expect(tx.state).toBe('Terminated');
    expect(layer.transactionCount.client).toBe(0);
  });
});

describe('stateless sending', () => {
  it('sends an ACK for a 2xx outside any transaction, with a Via and branch of its own', async () => {
    const { layer, peer, target, ports } = await setup();
    const ack = request('ACK');
    await layer.sendStateless(ack, target);
    const sent = (await peer.inbox.next(method('ACK'))) as SipRequest;
    expect(sent.topVia()!.port).toBe(ports.UDP);
    expect(sent.topVia()!.params.get('branch')).toMatch(/^z9hG4bK/);
    expect(layer.transactionCount.client).toBe(0);
    expect(() => layer.sendRequest(request('ACK'), target)).toThrow(TypeError);
    expect(() => layer.sendRequest(request('CANCEL'), target)).toThrow(TypeError);
  });
});
