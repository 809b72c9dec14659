import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { json } from '@sveltejs/kit';

export type StreamedUpload = { ok: true; file: string; bytes: number } | { ok: false; response: Response };

/**
 * The refusal of a body too large, sent while the client may still be sending it: the
 * connection closes after the answer (RFC 9110 §15.5.14), so the rest is not read at all.
 */
const tooLarge = (maxBytes: number) =>
  json({ error: 'too_large', message: `the file is larger than ${maxBytes / 1024 / 1024} MB`, maxBytes }, { status: 413, headers: { connection: 'close' } });

/**
 * A request's raw body (the file itself, not a form) written to a temporary file as it arrives,
 * never held whole in memory: a declared Content-Length over `maxBytes` is refused before a byte
 * is read, and a body without one (chunked) is refused, and its reading stopped, as soon as it
 * passes `maxBytes`. The caller removes the file.
 */
export async function receiveUpload(request: Request, maxBytes: number): Promise<StreamedUpload> {
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > maxBytes) return { ok: false, response: tooLarge(maxBytes) };
  if (!request.body) return { ok: false, response: json({ error: 'invalid_body', message: 'send the audio file as the request body' }, { status: 400 }) };
  const file = path.join(os.tmpdir(), `carillon-upload-${randomUUID()}`);
  // Each chunk written before the next is read: the body is never held whole, and a slow disk slows the client.
  const out = await fs.promises.open(file, 'wx', 0o600);
  const reader = request.body.getReader();
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (bytes > maxBytes) {
        // Not reader.cancel(): adapter-node destroys the socket on it, and the client would get no answer.
        reader.releaseLock();
        await out.close();
        fs.rmSync(file, { force: true });
        return { ok: false, response: tooLarge(maxBytes) };
      }
      await out.write(value);
    }
    await out.close();
  } catch (err) {
    await out.close().catch(() => undefined);
    fs.rmSync(file, { force: true });
    // The client went away, or adapter-node's own body limit cut the stream.
    return { ok: false, response: json({ error: 'invalid_body', message: `the upload did not arrive whole: ${(err as Error).message}` }, { status: 400 }) };
  }
  if (bytes === 0) {
    fs.rmSync(file, { force: true });
    return { ok: false, response: json({ error: 'invalid_body', message: 'the file is empty' }, { status: 400 }) };
  }
  return { ok: true, file, bytes };
}

/** One file of a multipart body: on disk at `file` (the caller removes it), or refused for its size and not kept. */
export type ReceivedFile = { fileName: string; bytes: number } & ({ file: string; tooLarge: false } | { file: null; tooLarge: true });

export type StreamedFiles = { ok: true; files: ReceivedFile[] } | { ok: false; response: Response };

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
// A part's headers are a few hundred bytes; more is not a browser's form.
const MAX_HEADER_BYTES = 16 * 1024;

/**
 * The file parts of a multipart/form-data body (RFC 7578) named `field`, each written to a temporary
 * file as it arrives, never the body whole in memory: a file over `maxFileBytes` is not kept (its bytes
 * are read and dropped, so the files after it still arrive) and comes back `tooLarge`; more than
 * `maxFiles` files, or a body that is not a form, refuses the request (every file kept so far removed).
 * Parts of other names are skipped. The boundary is the delimiter of RFC 2046 §5.1.1: CRLF "--" boundary.
 */
export async function receiveFiles(request: Request, options: { field: string; maxFiles: number; maxFileBytes: number }): Promise<StreamedFiles> {
  const boundary = /^multipart\/form-data;.*\bboundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(request.headers.get('content-type') ?? '');
  if (!boundary || !request.body) return { ok: false, response: json({ error: 'invalid_body', message: 'send the files as multipart/form-data' }, { status: 400 }) };
  // The first delimiter has no CRLF before it when there is no preamble: one is prepended to the body.
  const delimiter = Buffer.from(`\r\n--${boundary[1] ?? boundary[2]}`);
  const files: ReceivedFile[] = [];
  const discard = () => files.forEach((f) => f.file && fs.rmSync(f.file, { force: true }));
  const reader = request.body.getReader();
  let pending: Buffer = Buffer.from(CRLF);
  let state: 'preamble' | 'afterDelimiter' | 'headers' | 'body' | 'done' = 'preamble';
  // The part being read: null when it is not one of ours.
  let part: { entry: ReceivedFile; out: fs.promises.FileHandle | null } | null = null;

  const closePart = async () => {
    if (part?.out) await part.out.close();
    part = null;
  };
  const refuse = async (status: number, error: string, message: string): Promise<StreamedFiles> => {
    await closePart().catch(() => undefined);
    discard();
    // Not reader.cancel(): adapter-node destroys the socket on it, and the client would get no answer.
    reader.releaseLock();
    return { ok: false, response: json({ error, message }, { status, headers: { connection: 'close' } }) };
  };
  const writePart = async (data: Buffer) => {
    if (!part || data.length === 0) return;
    part.entry.bytes += data.length;
    if (part.out && part.entry.bytes > options.maxFileBytes) {
      await part.out.close();
      fs.rmSync(part.entry.file!, { force: true });
      part.out = null;
      Object.assign(part.entry, { file: null, tooLarge: true });
    }
    if (part.out) await part.out.write(data);
  };

  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (value) pending = pending.length ? Buffer.concat([pending, value]) : Buffer.from(value);
      // Consume what the buffer holds; a token cut between two chunks waits for the next one.
      for (let progressed = true; progressed && state !== 'done'; ) {
        progressed = false;
        if (state === 'preamble' || state === 'body') {
          const at = pending.indexOf(delimiter);
          if (at < 0) {
            // All but what could be the start of a delimiter is the part's content (or preamble).
            const keep = Math.min(pending.length, delimiter.length - 1);
            if (state === 'body') await writePart(pending.subarray(0, pending.length - keep));
            pending = pending.subarray(pending.length - keep);
            continue;
          }
          if (state === 'body') {
            await writePart(pending.subarray(0, at));
            await closePart();
          }
          pending = pending.subarray(at + delimiter.length);
          state = 'afterDelimiter';
          progressed = true;
        } else if (state === 'afterDelimiter') {
          if (pending.length < 2) continue;
          if (pending.subarray(0, 2).toString() === '--') state = 'done';
          else if (pending.subarray(0, 2).equals(CRLF)) {
            pending = pending.subarray(2);
            state = 'headers';
            progressed = true;
          } else return refuse(400, 'invalid_body', 'the form is malformed');
        } else if (state === 'headers') {
          const end = pending.indexOf(HEADER_END);
          if (end < 0) {
            if (pending.length > MAX_HEADER_BYTES) return refuse(400, 'invalid_body', 'the form is malformed');
            continue;
          }
          const disposition = /^content-disposition:\s*form-data;(.*)$/im.exec(pending.subarray(0, end).toString('utf8'))?.[1] ?? '';
          pending = pending.subarray(end + HEADER_END.length);
          state = 'body';
          progressed = true;
          const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
          const fileName = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
          if (name !== options.field || fileName === undefined) continue;
          if (files.length === options.maxFiles) return refuse(413, 'too_many_files', `at most ${options.maxFiles} files at once`);
          const file = path.join(os.tmpdir(), `carillon-upload-${randomUUID()}`);
          const entry: ReceivedFile = { fileName: fileName.replace(/[\\/\r\n\0]/g, '_').slice(0, 200), bytes: 0, file, tooLarge: false };
          files.push(entry);
          part = { entry, out: await fs.promises.open(file, 'wx', 0o600) };
        }
      }
      if (done || state === 'done') break;
    }
  } catch (err) {
    return refuse(400, 'invalid_body', `the upload did not arrive whole: ${(err as Error).message}`);
  }
  if (state !== 'done') return refuse(400, 'invalid_body', 'the form ended before its last boundary');
  // Not reader.cancel() for an epilogue left unread: adapter-node destroys the socket on it.
  reader.releaseLock();
  return { ok: true, files };
}
