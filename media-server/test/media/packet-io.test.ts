/**
 * The media plane's packet I/O (endpoint/udp-socket.ts) on both
 * implementations MEDIA_NATIVE can select: Node's dgram and the addon of
 * media-server/native (recvmmsg/sendmmsg batches). Real UDP on 127.0.0.1.
 */
import dgram from 'node:dgram';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { NativeUdpSocket } from '../../src/media/endpoint/native-udp-socket.ts';
import { openUdpSocket, packetIoInUse, PortInUseError, selectPacketIo, type PacketSocket } from '../../src/media/endpoint/udp-socket.ts';

const opened: { close(): void }[] = [];

afterEach(() => {
  for (const s of opened.splice(0)) {
    try {
      s.close();
    } catch {
      // already closed by the test
    }
  }
  selectPacketIo('off');
});

async function peer(): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  socket.setRecvBufferSize(1 << 20);
  opened.push(socket);
  return socket;
}

async function open(): Promise<PacketSocket> {
  const socket = await openUdpSocket('127.0.0.1', 0);
  opened.push(socket);
  return socket;
}

describe('MEDIA_NATIVE selection', () => {
  it('uses the addon when configured on, and dgram when off', async () => {
    expect(selectPacketIo('on')).toBe('native');
    expect(packetIoInUse()).toBe('native');
    expect(await open()).toBeInstanceOf(NativeUdpSocket);
    expect(selectPacketIo('auto')).toBe('native');
    expect(selectPacketIo('off')).toBe('dgram');
    expect(await open()).toBeInstanceOf(dgram.Socket);
  });

  it('refuses "on" clearly when the addon cannot load, and "auto" falls back to dgram', () => {
    expect(() => selectPacketIo('on', '/nonexistent/media_io.node')).toThrow(/MEDIA_NATIVE=on but the media I\/O addon does not load: .*build-native\.sh/);
    expect(selectPacketIo('auto', '/nonexistent/media_io.node')).toBe('dgram');
  });
});

describe.each(['off', 'on'] as const)('packet I/O MEDIA_NATIVE=%s', (mode) => {
  it('receives 1,000 datagrams sent in a burst, all in order, each with its source address', async () => {
    selectPacketIo(mode);
    const socket = await open();
    const senders = [await peer(), await peer()];
    const got: { n: number; port: number; address: string }[] = [];
    socket.on('message', (msg, rinfo) => got.push({ n: msg.readUInt32BE(0), port: rinfo.port, address: rinfo.address }));
    const port = socket.address().port;
    for (let n = 0; n < 1000; n++) {
      const packet = Buffer.alloc(20);
      packet.writeUInt32BE(n, 0);
      senders[n % 2]!.send(packet, port, '127.0.0.1');
    }
    await expect.poll(() => got.length, { timeout: 10_000 }).toBe(1000);
    expect(got.map((g) => g.n)).toEqual(Array.from({ length: 1000 }, (_, n) => n));
    for (const g of got) {
      expect(g.address).toBe('127.0.0.1');
      expect(g.port).toBe(senders[g.n % 2]!.address().port);
    }
  });

  it('sends what a task queued once the loop turns, in order, past the size of one batch', async () => {
    selectPacketIo(mode);
    const socket = await open();
    const receiver = await peer();
    const got: number[] = [];
    receiver.on('message', (msg, rinfo) => {
      expect(rinfo.port).toBe(socket.address().port);
      got.push(msg.readUInt32BE(0));
    });
    // From a timer, not from a receive batch: nothing but the end of the task flushes them.
    const packet = Buffer.alloc(172);
    setTimeout(() => {
      for (let n = 0; n < 200; n++) {
        // One buffer reused for every send, as an endpoint does.
        packet.writeUInt32BE(n, 0);
        socket.send(packet, 0, 172, receiver.address().port, '127.0.0.1');
      }
    }, 0);
    await expect.poll(() => got.length, { timeout: 10_000 }).toBe(200);
    expect(got).toEqual(Array.from({ length: 200 }, (_, n) => n));
  });

  it('answers from inside a receive handler (the relay path), and sends a datagram larger than a ring slot', async () => {
    selectPacketIo(mode);
    const socket = await open();
    const far = await peer();
    socket.on('message', (msg, rinfo) => {
      socket.send(msg, rinfo.port, rinfo.address);
      socket.send(Buffer.alloc(4000, 7), 0, 4000, rinfo.port, rinfo.address);
    });
    const echoed: number[] = [];
    far.on('message', (msg) => echoed.push(msg.length));
    far.send(Buffer.alloc(160), socket.address().port, '127.0.0.1');
    await expect.poll(() => echoed.length).toBe(2);
    expect(echoed.sort((a, b) => a - b)).toEqual([160, 4000]);
  });

  it('closes in the middle of a burst with sends queued: no crash, nothing delivered after, the port freed', async () => {
    selectPacketIo(mode);
    const socket = await open();
    const port = socket.address().port;
    const sender = await peer();
    let delivered = 0;
    let closed = false;
    socket.on('message', (msg, rinfo) => {
      expect(closed).toBe(false);
      delivered++;
      socket.send(msg, rinfo.port, rinfo.address);
      if (delivered === 10) {
        closed = true;
        socket.close();
      }
    });
    for (let n = 0; n < 500; n++) sender.send(Buffer.alloc(100), port, '127.0.0.1');
    await expect.poll(() => closed).toBe(true);
    expect(delivered).toBe(10);
    // The descriptor is closed once its poll handle is: the port can be bound again.
    await expect
      .poll(async () => {
        try {
          (await openUdpSocket('127.0.0.1', port)).close();
          return true;
        } catch (err) {
          if (err instanceof PortInUseError) return false;
          throw err;
        }
      })
      .toBe(true);
  });
});

describe('the addon in a worker thread', () => {
  it('closes the sockets a worker leaves open when it ends', async () => {
    const url = new URL('../../src/media/endpoint/udp-socket.ts', import.meta.url).href;
    const worker = new Worker(
      `import(${JSON.stringify(url)}).then(async (io) => {
        io.selectPacketIo('on');
        const sockets = [];
        for (let i = 0; i < 8; i++) sockets.push(await io.openUdpSocket('127.0.0.1', 0));
        require('node:worker_threads').parentPort.postMessage(sockets.map((s) => s.address().port));
      });`,
      { eval: true },
    );
    const ports = await new Promise<number[]>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    expect(ports).toHaveLength(8);
    // The worker's environment tears down with the sockets open (Node aborts the process if a handle is left).
    expect(await worker.terminate()).toBe(1);
    selectPacketIo('on');
    await expect
      .poll(async () => {
        try {
          for (const port of ports) (await openUdpSocket('127.0.0.1', port)).close();
          return true;
        } catch (err) {
          if (err instanceof PortInUseError) return false;
          throw err;
        }
      })
      .toBe(true);
  });
});
