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
