import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '@carillon/db';
import { ffmpegPath } from '@carillon/core/audio';
import { nameRecordingFile, readNameRecording, removeDataFiles, resetNameRecording, setNameRecording, takeExtensionAudioFiles, NameRecordingError } from '@carillon/core/voicemail';
import { freshDb } from '../../../tests/support/env.ts';
import { toneWav } from '../../../tests/support/voicemail.ts';
import { addUser, newAccount } from './support.ts';

/**
 * A user's recorded name on a real database and a real data directory (issues 13 and 14): set from
 * an upload, the browser or the phone through the one check of uploaded audio, replaced (the old
 * file removed once the new one is named), reset; refused input leaves the recording as it was;
 * another account's user is not found (null: the routes' 404) and gets nothing; deleting the
 * extension takes the file with its mailbox's.
 */
let db: Db;
let dataDir: string;
let work: string;
const ffmpeg = ffmpegPath(process.env.FFMPEG_PATH);

beforeAll(async () => {
  db = await freshDb();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-names-'));
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-names-upload-'));
});
afterAll(async () => {
  await db?.destroy();
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

let uploads = 0;
/** An upload on disk, as the route leaves it: a 16-bit mono WAV of a tone (0 Hz: silence). */
function upload(seconds: number, hz: number, rate = 16000): string {
  const file = path.join(work, `upload-${uploads++}.wav`);
  fs.writeFileSync(file, toneWav(seconds, rate, hz));
  return file;
}

const filesOf = (accountId: string) => {
  const dir = path.join(dataDir, 'names', accountId);
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
};

describe('a user’s recorded name', () => {
  it('is set, replaced (the old file removed) and reset (its file removed), each change audited', async () => {
    const acct = await newAccount(db);
    const actor = { userId: acct.userId, ip: null };
    const options = { ffmpeg, dataDir };
    expect(await readNameRecording(db, acct.accountId, acct.userId)).toEqual({ nameRecording: null });
    expect(await nameRecordingFile(db, dataDir, acct.accountId, acct.userId)).toBeNull();

    const first = upload(1.2, 500);
    const set = await setNameRecording(db, options, actor, acct.accountId, acct.userId, { upload: first, source: 'phone' });
    expect(set?.nameRecording).toMatchObject({ source: 'phone' });
    expect(set!.nameRecording!.durationMs).toBeGreaterThan(1100);
    // The upload is taken over: removed once converted.
    expect(fs.existsSync(first)).toBe(false);
    const firstFile = (await nameRecordingFile(db, dataDir, acct.accountId, acct.userId))!;
    expect(path.dirname(firstFile)).toBe(path.join(dataDir, 'names', acct.accountId));
    const wav = fs.readFileSync(firstFile);
    expect([wav.readUInt16LE(22), wav.readUInt32LE(24)]).toEqual([1, 8000]);

    const replaced = await setNameRecording(db, options, actor, acct.accountId, acct.userId, { upload: upload(2, 700), source: 'browser' });
    expect(replaced?.nameRecording).toMatchObject({ source: 'browser' });
    const secondFile = (await nameRecordingFile(db, dataDir, acct.accountId, acct.userId))!;
    expect(secondFile).not.toBe(firstFile);
    expect(fs.existsSync(firstFile)).toBe(false);
    expect(filesOf(acct.accountId)).toEqual([path.basename(secondFile)]);

    expect(await resetNameRecording(db, dataDir, actor, acct.accountId, acct.userId)).toEqual({ nameRecording: null });
    expect(fs.existsSync(secondFile)).toBe(false);
    expect(await readNameRecording(db, acct.accountId, acct.userId)).toEqual({ nameRecording: null });
    const trail = await db.selectFrom('audit_events').select(['before', 'after']).where('account_id', '=', acct.accountId).where('action', '=', 'user.name_recording_changed').orderBy('occurred_at').execute();
    expect(trail.map((t) => [(t.before as { recorded: boolean }).recorded, (t.after as { recorded: boolean }).recorded])).toEqual([
      [false, true],
      [true, true],
      [true, false],
    ]);
  });

  it('refuses silence, a recording too long, and what is not audio, keeping the recording it had', async () => {
    const acct = await newAccount(db);
    const actor = { userId: acct.userId, ip: null };
    await setNameRecording(db, { ffmpeg, dataDir }, actor, acct.accountId, acct.userId, { upload: upload(1, 500), source: 'upload' });
    const kept = await nameRecordingFile(db, dataDir, acct.accountId, acct.userId);
    const notAudio = path.join(work, 'name.mp3');
    fs.writeFileSync(notAudio, 'not a sound at all'.repeat(40));
    for (const [file, code] of [
      [upload(2, 0), 'silent'],
      [upload(11, 500, 8000), 'too_long'],
      [notAudio, 'not_audio'],
    ] as const) {
      const refused = setNameRecording(db, { ffmpeg, dataDir }, actor, acct.accountId, acct.userId, { upload: file, source: 'upload' });
      await expect(refused).rejects.toBeInstanceOf(NameRecordingError);
      await expect(refused).rejects.toMatchObject({ code });
      expect(fs.existsSync(file)).toBe(false);
    }
    expect(await nameRecordingFile(db, dataDir, acct.accountId, acct.userId)).toBe(kept);
    expect(filesOf(acct.accountId)).toEqual([path.basename(kept!)]);
  });

  it('does not find another account’s user (null: the routes’ 404), and stores nothing for it', async () => {
    const mine = await newAccount(db);
    const theirs = await newAccount(db);
    const actor = { userId: mine.userId, ip: null };
    const file = upload(1, 500);
    expect(await setNameRecording(db, { ffmpeg, dataDir }, actor, mine.accountId, theirs.userId, { upload: file, source: 'upload' })).toBeNull();
    expect(fs.existsSync(file)).toBe(false);
    expect(await readNameRecording(db, mine.accountId, theirs.userId)).toBeNull();
    expect(await resetNameRecording(db, dataDir, actor, mine.accountId, theirs.userId)).toBeNull();
    expect(filesOf(mine.accountId)).toEqual([]);
    expect(await db.selectFrom('user_name_recordings').select('user_id').where('user_id', '=', theirs.userId).execute()).toEqual([]);
    // Their own recording is not reached from the other account either.
    await setNameRecording(db, { ffmpeg, dataDir }, { userId: theirs.userId, ip: null }, theirs.accountId, theirs.userId, { upload: upload(1, 500), source: 'upload' });
    expect(await nameRecordingFile(db, dataDir, mine.accountId, theirs.userId)).toBeNull();
    expect(await resetNameRecording(db, dataDir, actor, mine.accountId, theirs.userId)).toBeNull();
    expect(await nameRecordingFile(db, dataDir, theirs.accountId, theirs.userId)).not.toBeNull();
  });

  it('goes with the extension: deleting it takes the recorded name’s file with the mailbox’s, and only that user’s', async () => {
    const acct = await newAccount(db);
    const leaving = await addUser(db, acct.accountId, { number: '205' });
    const staying = await addUser(db, acct.accountId, { number: '206' });
    for (const u of [leaving, staying]) await setNameRecording(db, { ffmpeg, dataDir }, { userId: u.userId, ip: null }, acct.accountId, u.userId, { upload: upload(1, 500), source: 'browser' });
    const leavingFile = (await nameRecordingFile(db, dataDir, acct.accountId, leaving.userId))!;
    const stayingFile = (await nameRecordingFile(db, dataDir, acct.accountId, staying.userId))!;
    const files = await db.transaction().execute(async (trx) => {
      const taken = await takeExtensionAudioFiles(trx, acct.accountId, leaving.extensionId);
      await trx.deleteFrom('users').where('id', '=', leaving.userId).execute();
      await trx.deleteFrom('extensions').where('id', '=', leaving.extensionId).execute();
      return taken;
    });
    expect(files).toContain(path.relative(dataDir, leavingFile));
    await removeDataFiles(dataDir, files);
    expect(fs.existsSync(leavingFile)).toBe(false);
    expect(fs.existsSync(stayingFile)).toBe(true);
    expect(await db.selectFrom('user_name_recordings').select('user_id').where('account_id', '=', acct.accountId).execute()).toEqual([{ user_id: staying.userId }]);
  });
});
