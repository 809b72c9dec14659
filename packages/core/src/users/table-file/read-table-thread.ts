import { Worker } from 'node:worker_threads';
import type { ReadTable, TableFormat } from './read-table.ts';

/** How long reading one uploaded table may take; a users file of the largest allowed size reads in well under a second. */
export const READ_TABLE_TIMEOUT_MS = 5000;
/** The thread's heap: several times what the largest allowed workbook needs. */
const READ_TABLE_HEAP_MB = 256;

/**
 * readTable in a worker thread, so that a file crafted to be slow or large to
 * read (a ZIP whose headers lie about its sizes, a pathological sheet) never
 * holds the server's event loop: the thread is terminated past `timeoutMs` or
 * its heap limit, and the file refused with the reason.
 */
export function readTableInThread(format: TableFormat, bytes: Uint8Array, timeoutMs = READ_TABLE_TIMEOUT_MS): Promise<ReadTable> {
  return new Promise((resolve) => {
    // Found through the package rather than next to this file: the app's server bundle holds this code, not the worker's file.
    const worker = new Worker(new URL(import.meta.resolve('@carillon/core/read-table-worker')), {
      workerData: { format, bytes },
      resourceLimits: { maxOldGenerationSizeMb: READ_TABLE_HEAP_MB },
    });
    let settled = false;
    const settle = (result: ReadTable) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
      void worker.terminate();
    };
    const timer = setTimeout(
      () => settle({ ok: false, error: 'unreadable_file', message: `the file took more than ${timeoutMs / 1000} s to read: not a users file` }),
      timeoutMs,
    );
    worker.once('message', (result: ReadTable) => settle(result));
    worker.once('error', (err: Error & { code?: string }) =>
      settle({
        ok: false,
        error: 'unreadable_file',
        message: err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'the file needs too much memory to read: not a users file' : `the file could not be read (${err.message})`,
      }),
    );
    worker.once('exit', () => settle({ ok: false, error: 'unreadable_file', message: 'the file could not be read' }));
  });
}
