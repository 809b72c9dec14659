/**
 * UDP sockets for the packet path: the one packet I/O layer of the bridge's
 * and the mixer's endpoints and of the SFU (issue 12 point 4). Two
 * implementations behind one surface (PacketSocket), chosen per thread by
 * MEDIA_NATIVE (packages/config): the addon of media-server/native with
 * batched recvmmsg/sendmmsg (native-udp-socket.ts), or Node's dgram.
 *
 * dgram: the custom lookup answers synchronously
 * for IP literals (addresses from SDP and latching always are): with the
 * default dns.lookup, dgram defers every send to the next tick, which costs
 * a closure and a tick per packet and would let a reused send buffer change
 * before it leaves. With it, send() runs at once: either the kernel took the
 * datagram, or it is queued (getSendQueueCount() > 0) and the buffer must not
 * be reused.
 */
import dgram, { type RemoteInfo } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import { loadMediaIoAddon, nativeLoadError, useNativeAddon } from '../native-addon.ts';
import { NativeUdpSocket } from './native-udp-socket.ts';

/** What the endpoints and the SFU use of a UDP socket; dgram.Socket and NativeUdpSocket both are one. */
export interface PacketSocket {
  on(event: 'message', listener: (msg: Buffer, rinfo: RemoteInfo) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  prependListener(event: 'message', listener: (msg: Buffer, rinfo: RemoteInfo) => void): this;
  off(event: 'message', listener: (msg: Buffer, rinfo: RemoteInfo) => void): this;
  emit(event: 'message', msg: Buffer, rinfo: RemoteInfo): boolean;
  send(msg: Buffer, port: number, address: string): void;
  send(msg: Buffer, offset: number, length: number, port: number, address: string): void;
  getSendQueueCount(): number;
  address(): { address: string; family: string; port: number };
  close(): void;
}

/** MEDIA_NATIVE: "on" requires the addon, "auto" uses it when it loads, "off" keeps dgram. */
export type PacketIoMode = 'off' | 'auto' | 'on';
export type PacketIoImplementation = 'native' | 'dgram';

let implementation: PacketIoImplementation = 'dgram';

/**
 * Chooses this thread's packet I/O and SRTP transform for the sockets and
 * SRTP contexts created from now on (each
 * media or SFU worker calls it with the configuration it was started with).
 * "on" throws when the addon cannot load, naming why. `addonPath` is for
 * tests (a build that is not there).
 */
export function selectPacketIo(mode: PacketIoMode, addonPath?: string): PacketIoImplementation {
  const addon = mode === 'off' ? null : loadMediaIoAddon(addonPath);
  if (!addon && mode === 'on') throw new Error(`MEDIA_NATIVE=on but the media I/O addon does not load: ${nativeLoadError()}`);
  // The SRTP transform (srtp/srtp-transform.ts) follows the same choice.
  useNativeAddon(addon !== null && addonPath === undefined);
  return (implementation = addon ? 'native' : 'dgram');
}

/** The packet I/O this thread's new sockets use. */
export function packetIoInUse(): PacketIoImplementation {
  return implementation;
}

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

export async function openUdpSocket(address: string, port: number): Promise<PacketSocket> {
  if (implementation === 'native') {
    try {
      return NativeUdpSocket.open(loadMediaIoAddon()!, address, port);
    } catch (err) {
      throw (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? new PortInUseError(address, port) : err;
    }
  }
  return openDgramSocket(address, port);
}

function openDgramSocket(address: string, port: number): Promise<PacketSocket> {
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
