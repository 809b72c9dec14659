import type { Db } from '@carillon/db';
import { voicemailMp3PathOf } from './voicemail-inbox.ts';

/**
 * What deleting an extension leaves on disk: its mailbox's messages (WAV, the MP3 made for e-mails, the
 * transcription's copy), its own greeting, and the greetings and the recorded name of its user. The database rows go
 * with the extension (foreign keys cascade), the files do not: the messages and greetings are personal
 * data, and nothing would ever point at them again. Called in the deleting transaction, before the
 * delete, it also removes the messages' transcripts (whose rows only lose their link). The caller removes
 * the files once the transaction has committed (`removeDataFiles`): a rolled-back delete keeps them.
 */
export async function takeExtensionAudioFiles(trx: Db, accountId: string, extensionId: string): Promise<string[]> {
  const messages = await trx
    .selectFrom('voicemail_messages as m')
    .leftJoin('transcriptions as t', (j) => j.onRef('t.id', '=', 'm.transcription_id').onRef('t.account_id', '=', 'm.account_id'))
    .select(['m.audio_path', 'm.transcription_id', 't.audio_path as transcription_audio_path'])
    .where('m.account_id', '=', accountId)
    .where('m.mailbox_extension_id', '=', extensionId)
    .execute();
  const transcripts = messages.flatMap((m) => (m.transcription_id ? [m.transcription_id] : []));
  if (transcripts.length) await trx.deleteFrom('transcriptions').where('account_id', '=', accountId).where('id', 'in', transcripts).execute();
  const settings = await trx.selectFrom('voicemail_settings').select('greeting_path').where('account_id', '=', accountId).where('extension_id', '=', extensionId).executeTakeFirst();
  const greetings = await trx
    .selectFrom('voicemail_greetings as g')
    .innerJoin('users as u', (j) => j.onRef('u.id', '=', 'g.user_id').onRef('u.account_id', '=', 'g.account_id'))
    .select('g.file')
    .where('g.account_id', '=', accountId)
    .where('u.extension_id', '=', extensionId)
    .execute();
  const name = await trx
    .selectFrom('user_name_recordings as n')
    .innerJoin('users as u', (j) => j.onRef('u.id', '=', 'n.user_id').onRef('u.account_id', '=', 'n.account_id'))
    .select('n.file')
    .where('n.account_id', '=', accountId)
    .where('u.extension_id', '=', extensionId)
    .executeTakeFirst();
  return [
    ...messages.flatMap((m) => [m.audio_path, voicemailMp3PathOf(m.audio_path), m.transcription_audio_path]),
    settings?.greeting_path,
    ...greetings.map((g) => g.file),
    name?.file,
  ].filter((p): p is string => Boolean(p));
}
