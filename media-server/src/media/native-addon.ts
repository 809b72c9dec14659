/**
 * The media plane's N-API addon (media-server/native/media_io.c, issue 12):
 * batched UDP I/O (endpoint/native-udp-socket.ts) and the in-place SRTP
 * transform (srtp/srtp-transform.ts). Loaded once per thread, on demand;
 * MEDIA_NATIVE (packages/config) decides whether the media plane uses it.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface MediaIoAddon {
  createContext(recvBuf: Buffer, recvMeta: Int32Array, sendBuf: Buffer, sendMeta: Int32Array, slots: number, slotSize: number): object;
  open(ctx: object, family: 4 | 6, address: string, port: number, receiveBufferBytes: number, onBatch: (count: number) => void): [object, number, number];
  flush(ctx: object, count: number): number;
  sendNow(handle: object, buf: Buffer, offset: number, length: number, family: number, port: number, address: Int32Array): number;
  close(handle: object): void;
  pton(address: string, out: Int32Array): 0 | 4 | 6;
  srtpCreate(cipherKey: Uint8Array, cipherSalt: Uint8Array, authKey: Uint8Array): object;
  srtpXor(t: object, buf: Uint8Array, offset: number, length: number, ssrc: number, indexHigh: number, indexLow: number): void;
  srtpTag(t: object, buf: Uint8Array, length: number, trailer: number, tagLength: number, verify: boolean): boolean;
}

const ADDON_URL = new URL('../../native/build/media_io.node', import.meta.url);

let addon: MediaIoAddon | null = null;
let loadError: string | null = null;

/**
 * Loads the addon once per thread; null (with nativeLoadError()) when it is
 * not built or does not load. `path` names another build (tests: one that is
 * not there); it is loaded each time and never replaces the thread's addon.
 */
export function loadMediaIoAddon(path?: string): MediaIoAddon | null {
  if (path === undefined && (addon || loadError)) return addon;
  let loaded: MediaIoAddon | null = null;
  let error: string | null = null;
  try {
    // A file of media-server/native (built by scripts/build-native.sh), not a module of a layer.
    loaded = createRequire(import.meta.url)(path ?? fileURLToPath(ADDON_URL)) as MediaIoAddon;
  } catch (err) {
    error = `${(err instanceof Error ? err.message : String(err)).split("\n")[0]} (build it with scripts/build-native.sh)`;
  }
  if (path !== undefined) {
    lastError = error;
    return loaded;
  }
  addon = loaded;
  loadError = lastError = error;
  return addon;
}

let lastError: string | null = null;

/** Why the last load failed, or null. */
export function nativeLoadError(): string | null {
  return lastError;
}

let selected = false;

/** Whether this thread's media plane uses the addon (set by selectPacketIo from MEDIA_NATIVE). */
export function useNativeAddon(on: boolean): void {
  selected = on;
}

/** The addon when this thread's media plane uses it, else null. */
export function nativeAddonInUse(): MediaIoAddon | null {
  return selected ? addon : null;
}
