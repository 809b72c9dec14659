/** Entry of the thread readTableInThread starts: reads one uploaded table and posts the result back. */
import { parentPort, workerData } from 'node:worker_threads';
import { readTable, type TableFormat } from './read-table.ts';

const { format, bytes } = workerData as { format: TableFormat; bytes: Uint8Array };
parentPort!.postMessage(readTable(format, bytes));
