import zlib from 'node:zlib';

/** A ZIP refused for its shape or size: the message is fit for the user. */
export class ZipLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipLimitError';
  }
}

export interface ZipLimits {
  /** Entries in the central directory, read or not. */
  maxEntries: number;
  /** Bytes actually inflated, all read entries together (never the sizes the headers claim). */
  maxUnzippedBytes: number;
  /** Inflated bytes per compressed byte, for an entry past the first megabyte. */
  maxRatio: number;
}

/** Below this, an entry may be compressed as much as it likes: a ratio says little about a small part. */
const RATIO_FLOOR_BYTES = 1024 * 1024;

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;

/**
 * The entries of a ZIP (APPNOTE.TXT 6.3) that `wanted` names, inflated. Every
 * size is taken from what inflating really produces: a header that claims a
 * tiny entry and holds a huge one is stopped at the limit (zlib's
 * maxOutputLength), not trusted. Throws ZipLimitError past a limit and Error
 * for a damaged archive.
 */
export function readZipEntries(bytes: Uint8Array, wanted: (name: string) => boolean, limits: ZipLimits): Map<string, Uint8Array> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = findEndOfCentralDirectory(buf);
  const count = buf.readUInt16LE(eocd + 10);
  const directoryOffset = buf.readUInt32LE(eocd + 16);
  if (count > limits.maxEntries) throw new ZipLimitError(`the workbook has ${count} parts, more than the ${limits.maxEntries} allowed`);
  const out = new Map<string, Uint8Array>();
  let budget = limits.maxUnzippedBytes;
  let at = directoryOffset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > buf.length || buf.readUInt32LE(at) !== CENTRAL_SIGNATURE) throw new Error('the file is not a valid ZIP (damaged central directory)');
    const method = buf.readUInt16LE(at + 10);
    const compressedSize = buf.readUInt32LE(at + 20);
    const nameLength = buf.readUInt16LE(at + 28);
    const extraLength = buf.readUInt16LE(at + 30);
    const commentLength = buf.readUInt16LE(at + 32);
    const localOffset = buf.readUInt32LE(at + 42);
    const name = buf.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (!wanted(name)) continue;
    if (localOffset + 30 > buf.length || buf.readUInt32LE(localOffset) !== LOCAL_SIGNATURE) throw new Error('the file is not a valid ZIP (damaged entry)');
    const dataStart = localOffset + 30 + buf.readUInt16LE(localOffset + 26) + buf.readUInt16LE(localOffset + 28);
    if (dataStart + compressedSize > buf.length) throw new Error('the file is not a valid ZIP (an entry runs past its end)');
    const data = buf.subarray(dataStart, dataStart + compressedSize);
    const ratioBound = Math.max(RATIO_FLOOR_BYTES, compressedSize * limits.maxRatio);
    const bound = Math.min(budget, ratioBound);
    const overLimit = () =>
      new ZipLimitError(
        bound === ratioBound
          ? `the workbook part ${name} is compressed more than ${limits.maxRatio} times: not a users file`
          : `the workbook unzips to more than ${Math.round(limits.maxUnzippedBytes / 1048576)} MB`,
      );
    let inflated: Buffer;
    if (method === STORED) {
      inflated = data;
    } else if (method === DEFLATED) {
      try {
        inflated = zlib.inflateRawSync(data, { maxOutputLength: Math.max(1, bound) });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw overLimit();
        throw new Error('the file is not a valid ZIP (an entry does not inflate)');
      }
    } else {
      throw new Error(`the file is not a valid ZIP (compression method ${method} is not supported)`);
    }
    if (inflated.length > bound) throw overLimit();
    budget -= inflated.length;
    out.set(name, inflated);
  }
  return out;
}

/** The End of Central Directory record: 22 bytes, then a comment of up to 64 KiB, at the end of the file. */
function findEndOfCentralDirectory(buf: Buffer): number {
  for (let at = buf.length - 22; at >= Math.max(0, buf.length - 22 - 0xffff); at--) {
    if (buf.readUInt32LE(at) === EOCD_SIGNATURE) return at;
  }
  throw new Error('the file is not a valid ZIP (no central directory)');
}
