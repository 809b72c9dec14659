import fs from 'node:fs';
import { once } from 'node:events';
import yazl from 'yazl';

/**
 * Writes a ZIP to disk one entry at a time. Each entry is streamed from its
 * file into the archive and `add` resolves only once it has been read whole,
 * so the caller can reuse or delete the source file and never has more than
 * one entry in flight: memory stays flat whatever the archive's size. Entries
 * are stored, not deflated: the MP3s are compressed already. yazl switches to
 * ZIP64 by itself past 4 GiB.
 */
export class ZipFileWriter {
  readonly path: string;
  private readonly zip = new yazl.ZipFile();
  private readonly out: fs.WriteStream;
  private readonly finished: Promise<void>;
  private failure: Error | null = null;

  constructor(path: string) {
    this.path = path;
    this.out = fs.createWriteStream(path, { flags: 'wx' });
    const fail = (err: Error) => (this.failure ??= err);
    this.zip.on('error', fail);
    this.out.on('error', fail);
    this.zip.outputStream.on('error', fail);
    this.finished = new Promise<void>((resolve, reject) => {
      this.out.once('finish', resolve);
      this.out.once('error', reject);
      this.zip.once('error', reject);
    });
    // Nobody awaits `finished` until end(); an early failure is reported by add().
    this.finished.catch(() => undefined);
    this.zip.outputStream.pipe(this.out);
  }

  /** Adds the file at `source` as `name` in the archive; resolves once it has been read to the end. */
  async add(name: string, source: string, mtime: Date): Promise<void> {
    this.throwIfFailed();
    const size = (await fs.promises.stat(source)).size;
    let readDone!: Promise<void>;
    const opened = new Promise<void>((resolve) => {
      this.zip.addReadStreamLazy(name, { compress: false, size, mtime }, (cb) => {
        const stream = fs.createReadStream(source);
        readDone = new Promise<void>((res, rej) => {
          stream.once('close', res);
          stream.once('error', rej);
        });
        resolve();
        cb(null, stream);
      });
    });
    // The stream is opened when yazl reaches the entry, after the ones before it are written.
    await Promise.race([opened, this.finished]);
    this.throwIfFailed();
    await Promise.race([readDone, this.finished]);
    this.throwIfFailed();
  }

  /** Writes the central directory, flushes and syncs the file; returns its size in bytes. */
  async end(): Promise<number> {
    this.throwIfFailed();
    this.zip.end();
    await this.finished;
    // On disk before anyone renames it into place: a crash after the rename must not leave a short file.
    const fd = await fs.promises.open(this.path, 'r');
    try {
      await fd.sync();
      return (await fd.stat()).size;
    } finally {
      await fd.close();
    }
  }

  /** Stops writing after a failure; the caller deletes the partial file. */
  async abort(): Promise<void> {
    this.zip.outputStream.unpipe(this.out);
    if (this.out.closed) return;
    const closed = once(this.out, 'close').catch(() => undefined);
    this.out.destroy();
    await closed;
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}
