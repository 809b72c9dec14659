import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createLogger } from '@carillon/config';
import {
  createResponse,
  parseSipMessage,
  serializeSipMessage,
  SipRequest,
  type SipMessage,
} from '../../src/sip/message/index.ts';
import {
  SipTransportLayer,
  StreamFramer,
  TransportError,
  type SipSource,
  type SipTransportSettings,
} from '../../src/sip/transport/index.ts';
import { eventually, Inbox, sleep } from './support/inbox.ts';
import { StreamPeer, UdpPeer } from './support/peers.ts';
import { branch, rawRequest } from './support/requests.ts';

const quiet = createLogger('test', 'error');
const running: { stop(): unknown }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

interface Received {
  message: SipMessage;
  source: SipSource;
}

/** A transport layer whose TU answers every request but ACK with 200 and records what arrived. */
async function startLayer(settings: Partial<SipTransportSettings> = {}, answer = true) {
  const layer = new SipTransportLayer({
    host: '127.0.0.1',
    udpPort: 0,
    tcpPort: 0,
    wsPort: 0,
    logger: quiet,
    ...settings,
  });
  const received: Received[] = [];
  layer.on('message', (message, source) => {
    received.push({ message, source });
    if (answer && message.kind === 'request' && message.method !== 'ACK')
      void layer.send(createResponse(message, 200), source);
  });
  await layer.start();
  running.push(layer);
  return { layer, received, ports: layer.ports };
}

async function udpPeer() {
  const peer = await UdpPeer.open();
  running.push({ stop: () => peer.close() });
  return peer;
}

async function streamPeer(port: number) {
  const peer = await StreamPeer.connect(port);
  running.push({ stop: () => peer.close() });
  return peer;
}

const isResponse = (status: number) => (m: SipMessage) => m.kind === 'response' && m.status === status;

describe('SipTransportLayer over UDP', () => {
  it('emits a request with its source and routes the response back to the sender', async () => {
    const { received, ports } = await startLayer();
    const peer = await udpPeer();
    await peer.send(rawRequest('OPTIONS', { port: peer.port, callId: 'udp-1' }), ports.UDP!);
    const response = await peer.inbox.next();
    expect(response.kind === 'response' && response.status).toBe(200);
    expect(response.callId).toBe('udp-1@test');
    expect(received[0]!.source).toMatchObject({
      transport: 'UDP',
      remoteAddress: '127.0.0.1',
      remotePort: peer.port,
      localPort: ports.UDP,
    });
    expect(received[0]!.source.connectionId).toBeUndefined();
  });

  it('adds received and fills rport when the sent-by is not the source (RFC 3261 §18.2.1, RFC 3581)', async () => {
    const { received, ports } = await startLayer();
    const peer = await udpPeer();
    // sent-by names a host and a port that would never reach the peer: only received/rport can.
    await peer.send(rawRequest('OPTIONS', { port: 5999, host: 'phone.invalid', rport: true }), ports.UDP!);
    const response = await peer.inbox.next();
    const via = received[0]!.message.topVia()!;
    expect(via.params.get('received')).toBe('127.0.0.1');
    expect(via.params.get('rport')).toBe(String(peer.port));
    expect(response.topVia()!.params.get('rport')).toBe(String(peer.port));
  });

  it('leaves the Via alone when sent-by is the source address and no rport is asked', async () => {
    const { received, ports } = await startLayer();
    const peer = await udpPeer();
    await peer.send(rawRequest('OPTIONS', { port: peer.port }), ports.UDP!);
    await peer.inbox.next();
    expect(received[0]!.message.topVia()!.params.has('received')).toBe(false);
    expect(received[0]!.message.topVia()!.params.has('rport')).toBe(false);
  });

  it('answers a malformed but answerable request with 400 and the parser reason', async () => {
    const { layer, received, ports } = await startLayer();
    const peer = await udpPeer();
    await peer.send(
      rawRequest('OPTIONS', { port: peer.port }).replace('sip:service@127.0.0.1 SIP', 'sip:@@@ SIP'),
      ports.UDP!,
    );
    const response = await peer.inbox.next();
    expect(response.kind === 'response' && [response.status, response.reason]).toEqual([
      400,
      'malformed Request-URI',
    ]);
    expect(received).toHaveLength(0);
    expect(layer.counters).toMatchObject({ parseErrors: 1, badRequests: 1, dropped: 0, messagesIn: 0 });
  });

  it('drops what cannot be answered (garbage, a bad ACK, a bad response, a keep-alive) and keeps serving', async () => {
    const { layer, ports } = await startLayer();
    const peer = await udpPeer();
    await peer.send(Buffer.from([0x00, 0x01, 0x00, 0x50, 0x21, 0x12, 0xa4, 0x42]), ports.UDP!);
    await peer.send(rawRequest('ACK', { port: peer.port, without: ['call-id'] }), ports.UDP!);
    await peer.send('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP x;branch=z9hG4bKx\r\n\r\n', ports.UDP!);
    await peer.send('\r\n\r\n', ports.UDP!);
    await peer.send(rawRequest('OPTIONS', { port: peer.port, callId: 'after' }), ports.UDP!);
    const first = await peer.inbox.next();
    expect(first.kind === 'response' && first.status).toBe(200);
    expect(first.callId).toBe('after@test');
    await sleep(50);
    expect(peer.inbox.items).toHaveLength(1);
    expect(layer.counters).toMatchObject({
      parseErrors: 3,
      dropped: 3,
      badRequests: 0,
      keepAlives: 1,
      messagesIn: 1,
    });
  });

  it('drops a datagram larger than maxMessageBytes', async () => {
    const { layer, ports } = await startLayer({ maxMessageBytes: 1_000 });
    const peer = await udpPeer();
    await peer.send(
      rawRequest('OPTIONS', { port: peer.port, headers: [`X-Pad: ${'p'.repeat(1_200)}`] }),
      ports.UDP!,
    );
    await peer.send(rawRequest('OPTIONS', { port: peer.port, callId: 'small' }), ports.UDP!);
    expect((await peer.inbox.next()).callId).toBe('small@test');
    expect(layer.counters).toMatchObject({ parseErrors: 1, dropped: 1 });
  });

  it('sends a request to an address and counts it', async () => {
    const { layer } = await startLayer({ tcpPort: undefined, wsPort: undefined });
    const peer = await udpPeer();
    const request = parseSipMessage(Buffer.from(rawRequest('OPTIONS', { port: 1 }))) as {
      ok: true;
      message: SipRequest;
    };
    await layer.send(request.message, { transport: 'UDP', host: '127.0.0.1', port: peer.port });
    expect(((await peer.inbox.next()) as SipRequest).method).toBe('OPTIONS');
    expect(layer.counters.messagesOut).toBe(1);
    await expect(
      layer.send(request.message, { transport: 'TCP', host: '127.0.0.1', port: 1 }),
    ).rejects.toBeInstanceOf(TransportError);
  });
});

describe('SipTransportLayer over TCP', () => {
  it('reassembles a request split across segments and answers on the same connection', async () => {
    const { received, ports } = await startLayer();
    const peer = await streamPeer(ports.TCP!);
    const raw = rawRequest('OPTIONS', { port: peer.localPort, transport: 'TCP', body: 'split body' });
    for (const part of [
      raw.slice(0, 7),
      raw.slice(7, 60),
      raw.slice(60, raw.length - 3),
      raw.slice(raw.length - 3),
    ]) {
      await peer.write(part);
      await sleep(15);
    }
    const response = await peer.inbox.next();
    expect(response.kind === 'response' && response.status).toBe(200);
    expect(received).toHaveLength(1);
    expect(received[0]!.message.body.toString()).toBe('split body');
    expect(received[0]!.source).toMatchObject({
      transport: 'TCP',
      remotePort: peer.localPort,
      localPort: ports.TCP,
    });
    expect(received[0]!.source.connectionId).toMatch(/^tcp-/);
  });

  it('separates coalesced requests and answers each in order', async () => {
    const { received, ports } = await startLayer();
    const peer = await streamPeer(ports.TCP!);
    const three = ['c1', 'c2', 'c3'].map((id) =>
      rawRequest('OPTIONS', { port: peer.localPort, transport: 'TCP', callId: id, body: `${id}\r\n\r\n` }),
    );
    await peer.write(three.join(''));
    for (const id of ['c1', 'c2', 'c3']) expect((await peer.inbox.next()).callId).toBe(`${id}@test`);
    expect(received.map((r) => r.message.body.toString())).toEqual([
      'c1\r\n\r\n',
      'c2\r\n\r\n',
      'c3\r\n\r\n',
    ]);
  });

  it('answers a double-CRLF ping with one CRLF and ignores a lone CRLF (RFC 5626 §3.5.1)', async () => {
    const { layer, ports } = await startLayer();
    const peer = await streamPeer(ports.TCP!);
    await peer.write('\r\n\r\n');
    await eventually(() => peer.pongs === 1, 2_000, 'pong');
    await peer.write('\r\n');
    await peer.write(rawRequest('OPTIONS', { port: peer.localPort, transport: 'TCP' }));
    await peer.inbox.next();
    expect(peer.pongs).toBe(1);
    expect(layer.counters.keepAlives).toBe(2);
    expect(peer.isClosed).toBe(false);
  });

  it('answers 400 on the connection for a framed but malformed request and keeps the connection', async () => {
    const { ports } = await startLayer();
    const peer = await streamPeer(ports.TCP!);
    await peer.write(
      rawRequest('OPTIONS', {
        port: peer.localPort,
        transport: 'TCP',
        headers: ['Max-Forwards: lots'],
        without: ['max-forwards'],
      }),
    );
    const bad = await peer.inbox.next();
    expect(bad.kind === 'response' && [bad.status, bad.reason]).toEqual([400, 'bad Max-Forwards']);
    await peer.write(rawRequest('OPTIONS', { port: peer.localPort, transport: 'TCP' }));
    expect(await peer.inbox.next()).toMatchObject({ status: 200 });
  });

  it('closes the connection on a framing error: no Content-Length, or a message over the limit', async () => {
    const { layer, received, ports } = await startLayer({ maxMessageBytes: 2_000 });
    const noLength = await streamPeer(ports.TCP!);
    await noLength.write(rawRequest('OPTIONS', { port: 1, transport: 'TCP', without: ['content-length'] }));
    await noLength.closed;
    const huge = await streamPeer(ports.TCP!);
    await huge.write(
      rawRequest('OPTIONS', { port: 1, transport: 'TCP' }).replace(
        'Content-Length: 0',
        'Content-Length: 50000',
      ),
    );
    await huge.closed;
    expect(received).toHaveLength(0);
    expect(layer.counters.framingErrors).toBe(2);
    await eventually(() => layer.connectionCount === 0, 2_000, 'connections released');
  });

  it('closes a connection that stays idle', async () => {
    const { layer, ports } = await startLayer({ idleTimeoutMs: 150 });
    const peer = await streamPeer(ports.TCP!);
    const opened = Date.now();
    await peer.closed;
    expect(Date.now() - opened).toBeGreaterThanOrEqual(140);
    expect(layer.connectionCount).toBe(0);
  });

  it('refuses connections beyond the per-address limit', async () => {
    const { layer, ports } = await startLayer({ maxConnectionsPerIp: 2 });
    const a = await streamPeer(ports.TCP!);
    await streamPeer(ports.TCP!);
    const third = await streamPeer(ports.TCP!);
    await third.closed;
    expect(layer.counters.connectionsRejected).toBe(1);
    expect(a.isClosed).toBe(false);
    a.close();
    await a.closed;
    // The freed slot is usable again.
    await eventually(() => layer.connectionCount === 1, 2_000, 'slot freed');
    const fourth = await streamPeer(ports.TCP!);
    await fourth.write(rawRequest('OPTIONS', { port: fourth.localPort, transport: 'TCP' }));
    expect(await fourth.inbox.next()).toMatchObject({ status: 200 });
  });

  it('opens one outbound connection for a target and reuses it; replies on it are emitted with its id', async () => {
    const { layer, received } = await startLayer({ udpPort: undefined, wsPort: undefined }, false);
    const far = net.createServer();
    const accepted: net.Socket[] = [];
    const farInbox = new Inbox();
    far.on('connection', (socket) => {
      accepted.push(socket);
      let buffer = '';
      socket.on('data', (chunk) => {
        buffer += chunk.toString('latin1');
        for (let end = buffer.indexOf('\r\n\r\n'); end >= 0; end = buffer.indexOf('\r\n\r\n')) {
          const parsed = parseSipMessage(Buffer.from(buffer.slice(0, end + 4), 'latin1'));
          buffer = buffer.slice(end + 4);
          if (!parsed.ok) continue;
          farInbox.push(parsed.message);
          if (parsed.message.kind === 'request')
            socket.write(serializeSipMessage(createResponse(parsed.message, 200)));
        }
      });
    });
    await new Promise<void>((resolve) => far.listen(0, '127.0.0.1', resolve));
    running.push({
      stop: () =>
        new Promise<void>((resolve) => {
          for (const s of accepted) s.destroy();
          far.close(() => resolve());
        }),
    });
    const port = (far.address() as net.AddressInfo).port;
    const target = { transport: 'TCP' as const, host: '127.0.0.1', port };
    const request = (id: string) =>
      (
        parseSipMessage(Buffer.from(rawRequest('OPTIONS', { port: 1, transport: 'TCP', callId: id }))) as {
          ok: true;
          message: SipRequest;
        }
      ).message;
    await Promise.all([layer.send(request('o1'), target), layer.send(request('o2'), target)]);
    await layer.send(request('o3'), target);
    expect((await farInbox.next()).callId).toBe('o1@test');
    await farInbox.next();
    await farInbox.next();
    expect(accepted).toHaveLength(1);
    expect(layer.counters.connectionsOpened).toBe(1);
    await eventually(() => received.length === 3, 2_000, 'three responses');
    const ids = new Set(received.map((r) => r.source.connectionId));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^tcp-/);
  });

  it('fails a send over a connection the peer has closed, rather than dialling the ephemeral port back', async () => {
    const { layer, ports } = await startLayer({}, false);
    let source: SipSource | undefined;
    layer.on('message', (_m, s) => (source = s));
    const peer = await streamPeer(ports.TCP!);
    await peer.write(rawRequest('OPTIONS', { port: 1, transport: 'TCP' }));
    await eventually(() => source !== undefined, 2_000, 'request');
    peer.close();
    await eventually(() => layer.connectionCount === 0, 2_000, 'close seen');
    const req = (
      parseSipMessage(Buffer.from(rawRequest('OPTIONS', { port: 1, transport: 'TCP' }))) as {
        ok: true;
        message: SipRequest;
      }
    ).message;
    await expect(layer.send(req, source!)).rejects.toBeInstanceOf(TransportError);
    expect(layer.counters.connectionsOpened).toBe(0);
  });

  it('sends a response whose connection has closed over a new one to received and the sent-by port (§18.2.2)', async () => {
    const { layer, ports } = await startLayer({}, false);
    const seen: Received[] = [];
    layer.on('message', (message, source) => seen.push({ message, source }));
    // The phone's listening port, named in its Via sent-by.
    const listening = net.createServer();
    const inbox = new Inbox();
    const accepted: net.Socket[] = [];
    listening.on('connection', (socket) => {
      accepted.push(socket);
      const framer = new StreamFramer(65_535);
      socket.on('data', (chunk: Buffer) => {
        for (const e of framer.push(chunk)) {
          if (e.kind !== 'message') continue;
          const parsed = parseSipMessage(e.frame);
          if (parsed.ok) inbox.push(parsed.message);
        }
      });
    });
    await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
    running.push({
      stop: () =>
        new Promise<void>((resolve) => {
          for (const s of accepted) s.destroy();
          listening.close(() => resolve());
        }),
    });
    const listeningPort = (listening.address() as net.AddressInfo).port;
    const peer = await streamPeer(ports.TCP!);
    await peer.write(rawRequest('OPTIONS', { port: listeningPort, transport: 'TCP', callId: 'late' }));
    await eventually(() => seen.length === 1, 2_000, 'request');
    peer.close();
    await eventually(() => layer.connectionCount === 0, 2_000, 'close seen');
    await layer.send(createResponse(seen[0]!.message as SipRequest, 200), seen[0]!.source);
    expect(await inbox.next()).toMatchObject({ status: 200, callId: 'late@test' });
    expect(layer.counters.connectionsOpened).toBe(1);
  });

  it('keeps a flow open longer when asked, as the registrar does for a registered phone', async () => {
    const { layer, ports } = await startLayer({ idleTimeoutMs: 400 }, false);
    let source: SipSource | undefined;
    layer.on('message', (_m, s) => (source = s));
    const peer = await streamPeer(ports.TCP!);
    await peer.write(rawRequest('REGISTER', { port: peer.localPort, transport: 'TCP' }));
    await eventually(() => source !== undefined, 2_000, 'request');
    const stretched = Date.now();
    expect(layer.setConnectionIdleTimeout(source!.connectionId!, 1_200)).toBe(true);
    await sleep(800);
    expect(peer.isClosed).toBe(false);
    await peer.closed;
    expect(Date.now() - stretched).toBeGreaterThanOrEqual(1_150);
    expect(layer.setConnectionIdleTimeout(source!.connectionId!, 1_200)).toBe(false);
  });
});

describe('SipTransportLayer over WebSocket (RFC 7118)', () => {
  function wsConnect(port: number, protocols: string[] = ['sip']) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, protocols);
    running.push({ stop: () => ws.terminate() });
    const inbox = new Inbox();
    const frames: { data: Buffer; binary: boolean }[] = [];
    ws.on('message', (data: Buffer, binary: boolean) => {
      frames.push({ data, binary });
      const parsed = parseSipMessage(data);
      if (parsed.ok) inbox.push(parsed.message);
    });
    return {
      ws,
      inbox,
      frames,
      open: new Promise<void>((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      }),
    };
  }

  it('negotiates the sip subprotocol, takes one message per frame and answers in a text frame', async () => {
    const { received, ports } = await startLayer();
    const client = wsConnect(ports.WS!);
    await client.open;
    expect(client.ws.protocol).toBe('sip');
    // RFC 7118 §5.2: browsers put an invalid host in Via; only received can route the answer.
    client.ws.send(
      rawRequest('OPTIONS', { port: 9, host: 'df7jal23ls0d.invalid', transport: 'WS', callId: 'ws-1' }),
    );
    const response = await client.inbox.next();
    expect(response.callId).toBe('ws-1@test');
    expect(client.frames[0]!.binary).toBe(false);
    expect(received[0]!.source.transport).toBe('WS');
    expect(received[0]!.source.connectionId).toMatch(/^ws-/);
    expect(received[0]!.message.topVia()!.params.get('received')).toBe('127.0.0.1');
  });

  it('accepts a message without Content-Length, since the frame delimits it', async () => {
    const { received, ports } = await startLayer();
    const client = wsConnect(ports.WS!);
    await client.open;
    client.ws.send(rawRequest('OPTIONS', { port: 9, transport: 'WS', without: ['content-length'] }));
    await client.inbox.next();
    expect(received).toHaveLength(1);
  });

  it('refuses a handshake that does not offer the sip subprotocol', async () => {
    const { layer, ports } = await startLayer();
    const client = wsConnect(ports.WS!, ['chat']);
    await expect(client.open).rejects.toThrow(/400/);
    expect(layer.connectionCount).toBe(0);
  });

  it('answers a CRLF-CRLF keep-alive frame with a CRLF frame', async () => {
    const { ports } = await startLayer();
    const client = wsConnect(ports.WS!);
    await client.open;
    client.ws.send('\r\n\r\n');
    await eventually(() => client.frames.length === 1, 2_000, 'pong frame');
    expect(client.frames[0]!.data.toString()).toBe('\r\n');
  });

  it('keeps a silent browser connection open with WebSocket pings, and drops one that stops answering them', async () => {
    const { layer, ports } = await startLayer({ idleTimeoutMs: 400 });
    const client = wsConnect(ports.WS!);
    await client.open;
    await sleep(1_200);
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    // A client that no longer answers pings (a frozen tab, a dead NAT binding) is idle.
    client.ws.pause();
    await eventually(() => layer.connectionCount === 0, 3_000, 'idle close');
  });

  it('stop() closes listeners and every connection', async () => {
    const { layer, ports } = await startLayer();
    const client = wsConnect(ports.WS!);
    await client.open;
    const tcp = await streamPeer(ports.TCP!);
    const wsClosed = new Promise<void>((resolve) => client.ws.once('close', () => resolve()));
    await layer.stop();
    await Promise.all([wsClosed, tcp.closed]);
    expect(layer.connectionCount).toBe(0);
    await expect(StreamPeer.connect(ports.TCP!)).rejects.toThrow(/ECONNREFUSED/);
    await expect(
      layer.send(new SipRequest('OPTIONS', 'sip:x'), { transport: 'UDP', host: '127.0.0.1', port: 9 }),
    ).rejects.toBeInstanceOf(TransportError);
  });
});

describe('SipTransportLayer settings', () => {
  it('rejects TLS ports without a certificate and bad ports', () => {
    expect(() => new SipTransportLayer({ host: '127.0.0.1', tlsPort: 0 })).toThrow(TypeError);
    expect(() => new SipTransportLayer({ host: '127.0.0.1', udpPort: 70_000 })).toThrow(/udpPort/);
  });

  it('reports a port already in use and releases what it had bound', async () => {
    const { ports } = await startLayer({ udpPort: undefined, wsPort: undefined });
    const clash = new SipTransportLayer({
      host: '127.0.0.1',
      udpPort: 0,
      tcpPort: ports.TCP!,
      logger: quiet,
    });
    await expect(clash.start()).rejects.toThrow(/EADDRINUSE/);
    expect(clash.state).toBe('Stopped');
  });

  it('lets the TU answer later through the source it was given', async () => {
    const { layer, ports } = await startLayer({}, false);
    const peer = await udpPeer();
    const sources: SipSource[] = [];
    layer.on('message', (m, s) => {
      sources.push(s);
      setTimeout(() => void layer.send(createResponse(m as SipRequest, 202), s), 50);
    });
    await peer.send(rawRequest('MESSAGE', { port: peer.port, branch: branch(), rport: true }), ports.UDP!);
    expect(await peer.inbox.next(isResponse(202))).toMatchObject({ status: 202 });
  });
});
