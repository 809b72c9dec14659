import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { json } from '@sveltejs/kit';

export type StreamedUpload = { ok: true; file: string; bytes: number } | { ok: false; response: Response };

const tooLarge = (maxBytes: number) => json({ error: 'too_large', message: `the file is larger than ${maxBytes / 1024 / 1024} MB`, maxBytes }, { status: 413 });

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
  const out = fs.createWriteStream(file, { mode: 0o600 });
  const reader = request.body.getReader();
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (bytes > maxBytes) {
        await reader.cancel().catch(() => undefined);
        out.destroy();
        fs.rmSync(file, { force: true });
        return { ok: false, response: tooLarge(maxBytes) };
      }
      if (!out.write(value)) await new Promise<void>((resolve) => out.once('drain', resolve));
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  } catch (err) {
    out.destroy();
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
