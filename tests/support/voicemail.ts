import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '@carillon/db';

/** A 16-bit mono PCM WAV of a tone, as media-server records a message (8 kHz). */
export function toneWav(seconds: number, rate = 8000, hz = 440): Buffer {
  const samples = Math.round(seconds * rate);
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / rate)), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

export interface DepositedMessage {
  id: string;
  file: string;
  transcriptionId: string | null;
}

/**
 * A message left in a mailbox as media-server leaves it: the WAV under
 * DATA_DIR (audio_path relative to it), the row, and optionally a
 * transcription row linked by transcription_id (completed with `transcript`,
 * or queued). The 'deposited' event is the caller's to publish.
 */
export async function depositVoicemail(
  db: Db,
  dataDir: string,
  m: { accountId: string; mailboxExtensionId: string; fromNumber?: string | null; fromName?: string | null; seconds?: number; wav?: Buffer; transcript?: string | 'queued'; createdAt?: Date },
): Promise<DepositedMessage> {
  const wav = m.wav ?? toneWav(m.seconds ?? 3);
  const id = crypto.randomUUID();
  const relative = path.posix.join('voicemail', m.accountId, `${id}.wav`);
  const file = path.join(dataDir, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, wav);
  let transcriptionId: string | null = null;
  if (m.transcript !== undefined) {
    const done = m.transcript !== 'queued';
    const row = await db
      .insertInto('transcriptions')
      .values({
        account_id: m.accountId,
        language: 'en',
        file_name: `${id}.wav`,
        size_bytes: wav.length,
        audio_path: relative,
        ...(done ? { status: 'completed' as const, text: m.transcript, engine: 'test', completed_at: new Date() } : {}),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    transcriptionId = row.id;
  }
  const dataBytes = wav.length - 44;
  await db
    .insertInto('voicemail_messages')
    .values({
      id,
      account_id: m.accountId,
      mailbox_extension_id: m.mailboxExtensionId,
      from_number: m.fromNumber === undefined ? '+33612345678' : m.fromNumber,
      from_name: m.fromName ?? null,
      to_number: '+33198765432',
      reason: 'no_answer',
      audio_path: relative,
      duration_ms: Math.round((dataBytes / 2 / wav.readUInt32LE(24)) * 1000),
      size_bytes: wav.length,
      transcription_id: transcriptionId,
      ...(m.createdAt ? { created_at: m.createdAt } : {}),
    })
    .execute();
  return { id, file, transcriptionId };
}
