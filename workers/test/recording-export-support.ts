/**
 * Real recordings and a real database for the recording-export tests and
 * benchmark: WAV files made by sox in the media-server's format (8 kHz, 16-bit,
 * stereo), call and recording rows as the media-server writes them, and
 * readers that check a ZIP with Debian's unzip and decode MP3s with ffmpeg.
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { createAccount } from '@carillon/core';
import type { Db } from '@carillon/db';
import { ffmpegPath } from '../src/transcription/audio.ts';

const run = promisify(execFile);

/** A stereo WAV as the call recorder writes it: one tone per side of the call. */
export async function makeWav(file: string, seconds: number, tones: [number, number] = [440, 660]): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await run('sox', ['-n', '-r', '8000', '-c', '2', '-b', '16', '-e', 'signed-integer', file, 'synth', String(seconds), 'sine', String(tones[0]), 'sine', String(tones[1]), 'vol', '0.5']);
}

export interface SeededAccount {
  accountId: string;
  adminUserId: string;
  adminExtensionId: string;
  siteId: string;
}

export async function seedAccount(db: Db, company: string): Promise<SeededAccount> {
  const created = await createAccount(db, { company, email: `admin-${randomUUID().slice(0, 8)}@${company.toLowerCase().replace(/\W/g, '')}.example` }, { activationTtlHours: 1 });
  const admin = await db.selectFrom('users').innerJoin('extensions', 'extensions.id', 'users.extension_id').select(['users.extension_id', 'extensions.site_id']).where('users.id', '=', created.userId).executeTakeFirstOrThrow();
  return { accountId: created.accountId, adminUserId: created.userId, adminExtensionId: admin.extension_id, siteId: admin.site_id };
}

/** A Standard user on a new extension, made directly in the database as the admin portal would. */
export async function addStandardUser(db: Db, a: SeededAccount, number: string): Promise<{ userId: string; extensionId: string }> {
  const role = await db.selectFrom('roles').select('id').where('key', '=', 'standard').executeTakeFirstOrThrow();
  const ext = await db.insertInto('extensions').values({ account_id: a.accountId, site_id: a.siteId, number, type: 'user', status: 'activated' }).returning('id').executeTakeFirstOrThrow();
  const user = await db
    .insertInto('users')
    .values({ account_id: a.accountId, extension_id: ext.id, role_id: role.id, first_name: 'Sam', last_name: `Standard ${number}`, email: `sam${number}-${randomUUID().slice(0, 6)}@example.com`, setup_progress: JSON.stringify({}) })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { userId: user.id, extensionId: ext.id };
}

export interface RecordedCall {
  accountId: string;
  callerExtensionId: string | null;
  calleeExtensionId: string | null;
  direction?: 'internal' | 'inbound' | 'outbound';
  fromNumber: string;
  toNumber: string;
  startedAt: Date;
  /** The WAV on disk; absent files are allowed (a recording lost from storage). */
  wavPath: string;
  seconds: number;
  result?: 'answered' | 'missed';
}

/** A finished call with one recording, as the media-server records them. */
export async function insertRecordedCall(db: Db, c: RecordedCall): Promise<{ callId: string; recordingId: string }> {
  const ended = new Date(c.startedAt.getTime() + (c.seconds + 1) * 1000);
  const call = await db
    .insertInto('calls')
    .values({
      account_id: c.accountId,
      sip_call_id: `${randomUUID()}@test`,
      direction: c.direction ?? 'internal',
      from_number: c.fromNumber,
      from_name: null,
      to_number: c.toNumber,
      caller_extension_id: c.callerExtensionId,
      callee_extension_id: c.calleeExtensionId,
      started_at: c.startedAt,
      answered_at: new Date(c.startedAt.getTime() + 500),
      ended_at: ended,
      result: c.result ?? 'answered',
      duration_seconds: c.seconds,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const rec = await db
    .insertInto('recordings')
    .values({ account_id: c.accountId, call_id: call.id, storage_path: c.wavPath, started_at: new Date(c.startedAt.getTime() + 600), duration_seconds: c.seconds, started_by_extension_id: c.callerExtensionId })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { callId: call.id, recordingId: rec.id };
}

/** Names in a ZIP, as Debian's unzip lists them (after it has tested every entry's CRC). */
export async function zipEntryNames(zip: string): Promise<string[]> {
  await run('unzip', ['-tq', zip]);
  const { stdout } = await run('unzip', ['-Z1', zip]);
  return stdout.split('\n').filter(Boolean);
}

export async function zipEntry(zip: string, name: string): Promise<Buffer> {
  const { stdout } = await run('unzip', ['-p', zip, name], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

export interface DecodedAudio {
  seconds: number;
  channels: number;
  /** RMS level of each channel, 0..1 of full scale. */
  rms: number[];
  /** The strongest frequency of each channel, by zero crossings (good enough for pure tones). */
  frequency: number[];
}

/** Decodes audio (an MP3 here) with ffmpeg to 8 kHz stereo PCM and measures it. */
export function decodeAudio(data: Buffer): Promise<DecodedAudio> {
  return new Promise((resolve, reject) => {
    const ff = spawn(ffmpegPath(process.env.FFMPEG_PATH), ['-hide_banner', '-loglevel', 'error', '-i', 'pipe:0', '-f', 's16le', '-ac', '2', '-ar', '8000', 'pipe:1']);
    const chunks: Buffer[] = [];
    let err = '';
    ff.stdout.on('data', (d: Buffer) => chunks.push(d));
    ff.stderr.on('data', (d: Buffer) => (err += d.toString()));
    ff.stdin.on('error', () => undefined);
    ff.stdin.end(data);
    ff.on('error', reject);
    ff.on('close', (code) => {
      if (code !== 0) return reject(new Error(`ffmpeg could not decode: ${err}`));
      const pcm = Buffer.concat(chunks);
      const frames = Math.floor(pcm.length / 4);
      const sum = [0, 0];
      const crossings = [0, 0];
      const prev = [0, 0];
      for (let i = 0; i < frames; i++) {
        for (let ch = 0; ch < 2; ch++) {
          const s = pcm.readInt16LE(i * 4 + ch * 2) / 32768;
          sum[ch]! += s * s;
          if ((prev[ch]! < 0 && s >= 0) || (prev[ch]! >= 0 && s < 0)) crossings[ch]!++;
          prev[ch] = s;
        }
      }
      const seconds = frames / 8000;
      resolve({
        seconds,
        channels: 2,
        rms: sum.map((v) => Math.sqrt(v / Math.max(frames, 1))),
        frequency: crossings.map((n) => n / 2 / Math.max(seconds, 1e-9)),
      });
    });
  });
}

/** Parses the export's CSV (RFC 4180, as written by export-csv.ts) into objects keyed by column. */
export function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  const [header, ...body] = rows;
  return body.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i] ?? ''])));
}
