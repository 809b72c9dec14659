/**
 * UDP sockets for the packet path. The custom lookup answers synchronously
 * for IP literals (addresses from SDP and latching always are): with the
 * default dns.lookup, dgram defers every send to the next tick, which costs
 * a closure and a tick per packet and would let a reused send buffer change
 * before it leaves. With it, send() runs at once: either the kernel took the
 * datagram, or it is queued (getSendQueueCount() > 0) and the buffer must not
 * be reused.
 */
import dgram, { type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

function literalFirstLookup(hostname: string, options: unknown, callback: LookupCallback): void {
  const family = isIP(hostname);
  if (family !== 0) {
    callback(null, hostname, family);
    return;
  }
  dnsLookup(hostname, options as LookupOneOptions, callback);
}

/** Kernel receive buffer asked for: bursts of a few hundred packets survive a busy event loop. */
const RECEIVE_BUFFER_BYTES = 1 << 20;

export class PortInUseError extends Error {
  readonly code = 'EADDRINUSE';
  constructor(address: string, port: number) {
    super(`UDP ${address}:${port} is already in use`);
    this.name = 'PortInUseError';
  }
}

export function openUdpSocket(address: string, port: number): Promise<Socket> {
  const socket = dgram.createSocket({
    type: isIPv6(address) ? 'udp6' : 'udp4',
    lookup: literalFirstLookup as unknown as dgram.SocketOptions['lookup'],
  });
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      socket.close();
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(address, port) : err);
    };
    socket.once('error', onError);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', onError);
      try {
        socket.setRecvBufferSize(RECEIVE_BUFFER_BYTES);
      } catch {
        // Capped by net.core.rmem_max: the kernel default still works, only with less slack.
      }
      resolve(socket);
    });
  });
}
