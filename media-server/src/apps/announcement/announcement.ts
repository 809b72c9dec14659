import type { CallApp } from '../call-handle.ts';
import type { Destination } from '../../routing/destination.ts';
import { mailboxName, type Mailboxes } from '../voicemail/mailboxes.ts';

/**
 * An announcement-only extension (inventory 2, AO-01..03): every caller is
 * answered, hears the extension's announcement, and is hung up on. It takes no
 * message. The announcement is the custom greeting when one is set, else the
 * default text of the spec, naming the extension, spoken in the
 * account's language.
 */
export function announcementApp(mailboxes: Mailboxes): CallApp {
  return async (call, destination) => {
    if (destination.kind !== 'announcement') throw new TypeError(`announcement app given a ${destination.kind} destination`);
    const settings = await mailboxes.settings(destination.accountId, destination.extensionId);
    await call.answer();
    await call.play(settings.greetingFile ? { file: settings.greetingFile } : { tts: defaultAnnouncement(mailboxName(settings, destination.extensionNumber, call.language), call.language) });
    await call.hangup();
  };
}

export function defaultAnnouncement(name: string, language: 'en' | 'fr'): string {
  return language === 'fr'
    ? `Vous êtes bien sur ${name}. Personne n'est disponible pour prendre votre appel. Merci de votre appel. Au revoir !`
    : `You have reached ${name}. No one is available to take your call. Thank you for calling. Goodbye!`;
}

export type AnnouncementDestination = Extract<Destination, { kind: 'announcement' }>;
