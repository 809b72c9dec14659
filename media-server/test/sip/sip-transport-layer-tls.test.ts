import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createLogger } from '@carillon/config';
import {
  createResponse,
  parseSipMessage,
  type SipMessage,
  type SipRequest,
} from '../../src/sip/message/index.ts';
import {
  SipTransportLayer,
  TransportError,
  type SipSource,
  type SipTransportSettings,
} from '../../src/sip/transport/index.ts';
import { eventually, Inbox } from './support/inbox.ts';
import { StreamPeer } from './support/peers.ts';
import { rawRequest } from './support/requests.ts';
import { selfSignedCertificate } from './support/tls-certificate.ts';

const quiet = createLogger('test', 'error');
const running: { stop(): unknown }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

let certificate: { cert: Buffer; key: Buffer };
beforeAll(() => {
  certificate = selfSignedCertificate();
});

async function startLayer(settings: Partial<SipTransportSettings> = {}) {
  const layer = new SipTransportLayer({
    host: '127.0.0.1',
    tlsPort: 0,
    wssPort: 0,
    tls: certificate,
    logger: quiet,
    ...settings,
  });
  const received: { message: SipMessage; source: SipSource }[] = [];
  layer.on('message', (message, source) => {
    received.push({ message, source });
    if (message.kind === 'request') void layer.send(createResponse(message, 200), source);
  });
  await layer.start();
  running.push(layer);
  return { layer, received, ports: layer.ports };
}

const request = (id: string, transport: string) =>
  (
    parseSipMessage(Buffer.from(rawRequest('OPTIONS', { port: 5061, transport, callId: id }))) as {
      ok: true;
      message: SipRequest;
    }
  ).message;

describe('SipTransportLayer over TLS and WSS', () => {
  it('serves SIP over TLS with the configured certificate', async () => {
    const { received, ports } = await startLayer();
    const peer = await StreamPeer.connect(ports.TLS!, { tls: { ca: certificate.cert } });
    running.push({ stop: () => peer.close() });
    await peer.write(rawRequest('OPTIONS', { port: peer.localPort, transport: 'TLS', callId: 'tls-1' }));
    expect(await peer.inbox.next()).toMatchObject({ status: 200, callId: 'tls-1@test' });
    expect(received[0]!.source).toMatchObject({ transport: 'TLS', localPort: ports.TLS });
    expect(received[0]!.source.connectionId).toMatch(/^tls-/);
  });

  it('serves SIP over secure WebSocket', async () => {
    const { received, ports } = await startLayer();
    const ws = new WebSocket(`wss://127.0.0.1:${ports.WSS}`, ['sip'], { ca: certificate.cert });
    running.push({ stop: () => ws.terminate() });
    const inbox = new Inbox();
    ws.on('message', (data: Buffer) => {
      const parsed = parseSipMessage(data);
      if (parsed.ok) inbox.push(parsed.message);
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send(rawRequest('OPTIONS', { port: 9, host: 'client.invalid', transport: 'WSS', callId: 'wss-1' }));
    expect(await inbox.next()).toMatchObject({ status: 200, callId: 'wss-1@test' });
    expect(received[0]!.source.transport).toBe('WSS');
  });

  it('dials TLS to another transport layer, verifying its certificate, and receives the answer on that connection', async () => {
    const server = await startLayer({ wssPort: undefined });
    const client = await startLayer({
      tlsPort: undefined,
      wssPort: undefined,
      tls: { ...certificate, ca: certificate.cert },
    });
    const target = { transport: 'TLS' as const, host: '127.0.0.1', port: server.ports.TLS! };
    await client.layer.send(request('dial-1', 'TLS'), target);
    await client.layer.send(request('dial-2', 'TLS'), target);
    await eventually(() => client.received.length === 2, 3_000, 'two answers');
    expect(client.received.map((r) => [r.message.callId, r.source.transport])).toEqual([
      ['dial-1@test', 'TLS'],
      ['dial-2@test', 'TLS'],
    ]);
    expect(client.layer.counters.connectionsOpened).toBe(1);
    expect(server.layer.counters.connectionsAccepted).toBe(1);
  });

  it('refuses to dial a TLS peer whose certificate it cannot verify', async () => {
    const server = await startLayer({ wssPort: undefined });
    const client = await startLayer({ tlsPort: undefined, wssPort: undefined });
    const sent = client.layer.send(request('untrusted', 'TLS'), {
      transport: 'TLS',
      host: '127.0.0.1',
      port: server.ports.TLS!,
    });
    await expect(sent).rejects.toBeInstanceOf(TransportError);
    await expect(sent).rejects.toThrow(/self-signed|certificate/);
    expect(server.received).toHaveLength(0);
  });

  it('gives a TLS connection slot back when it closes, handshake or not', async () => {
    const { layer, ports } = await startLayer({ maxConnectionsPerIp: 1, wssPort: undefined });
    for (let i = 0; i < 3; i++) {
      const peer = await StreamPeer.connect(ports.TLS!, { tls: { ca: certificate.cert } });
      await peer.write(rawRequest('OPTIONS', { port: peer.localPort, transport: 'TLS' }));
      expect(await peer.inbox.next()).toMatchObject({ status: 200 });
      peer.close();
      await peer.closed;
      await eventually(() => layer.socketCount === 0, 2_000, 'socket released');
    }
    // A client that fails the handshake must not keep its slot either.
    await expect(StreamPeer.connect(ports.TLS!, { tls: { ca: Buffer.from('') } })).rejects.toThrow();
    await eventually(() => layer.socketCount === 0, 2_000, 'handshake socket released');
    const last = await StreamPeer.connect(ports.TLS!, { tls: { ca: certificate.cert } });
    running.push({ stop: () => last.close() });
    await last.write(rawRequest('OPTIONS', { port: last.localPort, transport: 'TLS' }));
    expect(await last.inbox.next()).toMatchObject({ status: 200 });
    expect(layer.counters.connectionsRejected).toBe(0);
  });
});
