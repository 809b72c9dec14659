import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { json } from '@sveltejs/kit';
import { z } from 'zod';
import type { AuthenticatedSession } from '@carillon/core';
import { convertToMp3, ffmpegPath } from '@carillon/core/audio';
import { scheduleExpirySweep } from '@carillon/core/jobs';
import { voicemailFilePath, type VoicemailAudio, type VoicemailChange, type VoicemailReader } from '@carillon/core/voicemail';
import { VOICEMAIL_EVENTS_CHANNEL, type VoicemailEvent } from '@carillon/contracts/voicemail-events';
import { appJobs } from '../jobs.ts';
import type { Runtime } from '../runtime.ts';

/** GET /api/me/voicemail: the inbox or the trash, of all the user's mailboxes or one. */
export const voicemailListQuery = z.object({ folder: z.enum(['inbox', 'trash']).default('inbox'), mailbox: z.string().uuid().optional() }).strict();

/** PATCH /api/me/voicemail/messages/[id]: mark read (heard) or unread (new). */
export const voicemailMarkSchema = z.object({ status: z.enum(['new', 'heard']) }).strict();

/** GET …/audio: played inline (WAV, seekable), or downloaded as WAV or MP3. */
export const voicemailAudioQuery = z.object({ download: z.enum(['wav', 'mp3']).optional() }).strict();

export const readerOf = (auth: AuthenticatedSession): VoicemailReader => ({ accountId: auth.account.id, userId: auth.user.id });

/** A message id that is not a UUID: a clear 400, before anything is looked up. */
export const invalidMessageId = () => json({ error: 'invalid_id', message: 'the message id must be a UUID' }, { status: 400 });

/**
 * Announces a change made here (read, unread, deleted, restored) on
 * VOICEMAIL_EVENTS_CHANNEL, so every app node updates the badges of the
 * mailbox's readers and media-server its message-waiting indication. The
 * change is already saved: a lost event costs a live update, so a failure is logged, not thrown.
 */
export async function publishVoicemailChange(rt: Runtime, accountId: string, change: VoicemailChange): Promise<void> {
  const event: VoicemailEvent = { kind: 'changed', accountId, mailboxExtensionId: change.mailboxExtensionId, messageId: change.messageId };
  await rt.redis.publish(VOICEMAIL_EVENTS_CHANNEL, JSON.stringify(event)).catch((err: unknown) => rt.log.warn('voicemail event not published', { error: err }));
}

/** Makes sure the hourly sweep that purges the trash is scheduled; the message is in the trash whether or not the queue answers. */
export async function scheduleTrashPurge(rt: Runtime): Promise<void> {
  await scheduleExpirySweep(appJobs(rt).producer.queue('recording-export')).catch((err: unknown) => rt.log.warn('voicemail trash purge not scheduled', { error: err instanceof Error ? err.message : String(err) }));
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` (RFC 9110 §14.1.2), clipped to the file; null when unsatisfiable, 'whole' for anything else. */
export function byteRange(header: string | null, size: number): { start: number; end: number } | 'whole' | null {
  if (!header) return 'whole';
  // Several ranges at once: a server MAY ignore Range and send the whole file (RFC 9110 §14.2).
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'whole';
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return null;
    return { start: Math.max(size - suffix, 0), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return null;
  return { start, end };
}

/** MP3 conversions running at once in this process: each is an ffmpeg on a core; past this a download waits for a retry (503). */
const MAX_MP3_CONVERSIONS = 4;
let mp3Conversions = 0;

/** The MP3 of a WAV, made in a directory of its own that is removed after. */
async function mp3Of(rt: Runtime, file: string): Promise<Buffer> {
  const work = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'carillon-voicemail-'));
  try {
    const mp3 = path.join(work, 'message.mp3');
    await convertToMp3(file, mp3, { ffmpeg: ffmpegPath(rt.config.FFMPEG_PATH), timeoutMs: 60_000 });
    return await fs.promises.readFile(mp3);
  } finally {
    await fs.promises.rm(work, { recursive: true, force: true });
  }
}

const fileStream = (file: string, range?: { start: number; end: number }) => Readable.toWeb(fs.createReadStream(file, range)) as ReadableStream<Uint8Array>;

const safeName = (message: VoicemailAudio, ext: string) => {
  const from = (message.fromNumber ?? 'anonymous').replace(/[^0-9A-Za-z+]/g, '');
  return `voicemail-${message.createdAt.toISOString().slice(0, 19).replace(/[-:T]/g, '')}-${from || 'anonymous'}.${ext}`;
};

/**
 * A message's audio. Played inline it is the WAV, with byte ranges so that
 * the player can seek (206 Partial Content, RFC 9110 §15.3.7); downloaded,
 * the WAV or an MP3 made for the occasion. A row whose file is missing is a 404.
 */
export async function voicemailAudioResponse(rt: Runtime, request: Request, message: VoicemailAudio, download: 'wav' | 'mp3' | undefined): Promise<Response> {
  const file = voicemailFilePath(rt.config.dataDir, message.audioPath);
  const stat = file ? await fs.promises.stat(file).catch(() => null) : null;
  if (!file || !stat?.isFile()) return json({ error: 'not_found', message: 'the audio of this message is missing' }, { status: 404 });
  const common = { 'cache-control': 'private, no-store', 'x-content-type-options': 'nosniff' };
  if (download === 'mp3') {
    if (mp3Conversions >= MAX_MP3_CONVERSIONS) return json({ error: 'busy', message: 'too many downloads being converted; try again in a moment' }, { status: 503, headers: { 'retry-after': '5' } });
    mp3Conversions++;
    try {
      const data = await mp3Of(rt, file);
      return new Response(new Uint8Array(data), {
        headers: { ...common, 'content-type': 'audio/mpeg', 'content-length': String(data.length), 'content-disposition': `attachment; filename="${safeName(message, 'mp3')}"` },
      });
    } finally {
      mp3Conversions--;
    }
  }
  const disposition = download === 'wav' ? `attachment; filename="${safeName(message, 'wav')}"` : 'inline';
  const headers = { ...common, 'content-type': 'audio/wav', 'accept-ranges': 'bytes', 'content-disposition': disposition };
  const range = byteRange(request.headers.get('range'), stat.size);
  if (range === null) return new Response(null, { status: 416, headers: { ...headers, 'content-range': `bytes */${stat.size}` } });
  if (range === 'whole') return new Response(fileStream(file), { headers: { ...headers, 'content-length': String(stat.size) } });
  return new Response(fileStream(file, range), {
    status: 206,
    headers: { ...headers, 'content-length': String(range.end - range.start + 1), 'content-range': `bytes ${range.start}-${range.end}/${stat.size}` },
  });
}
