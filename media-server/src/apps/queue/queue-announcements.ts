import { spellDigits } from '@carillon/domain';
/**
 * What a waiting caller is told of its place (issue 15, beyond the anchors): "you are caller 3;
 * expected wait 2 minutes", spoken by TTS in the call's language. The wait is left out while the
 * queue has no estimate (no call answered yet, or nobody taking calls).
 */
export function positionAnnouncement(position: number, waitMinutes: number | null, language: 'en' | 'fr'): string {
  if (language === 'fr') {
    const place = position === 1 ? 'Vous êtes le prochain appelant.' : `Vous êtes l'appelant numéro ${position}.`;
    if (waitMinutes === null) return place;
    return `${place} Votre attente est estimée à ${waitMinutes === 1 ? 'une minute' : `${waitMinutes} minutes`}.`;
  }
  const place = position === 1 ? 'You are the next caller.' : `You are caller number ${position}.`;
  if (waitMinutes === null) return place;
  return `${place} Your expected wait is ${waitMinutes === 1 ? 'one minute' : `${waitMinutes} minutes`}.`;
}

/** The callback offer, told with the caller's place: which key to press to be called back and keep it. */
export function callbackOffer(key: string, language: 'en' | 'fr'): string {
  const spoken = key === '*' ? (language === 'fr' ? 'étoile' : 'star') : key === '#' ? (language === 'fr' ? 'dièse' : 'pound') : key;
  if (language === 'fr') return `Pour être rappelé sans perdre votre place, appuyez sur ${spoken}.`;
  return `To be called back without losing your place, press ${spoken}.`;
}

/** What a caller who pressed the callback key hears before the queue hangs up. */
export function callbackConfirmation(number: string, language: 'en' | 'fr'): string {
  const spelled = spellDigits(number);
  if (language === 'fr') return `Nous vous rappellerons au ${spelled}. Vous gardez votre place. Au revoir.`;
  return `We will call you back at ${spelled}. You keep your place. Goodbye.`;
}

/** The callback number read back before it is kept (issue 15: "the caller presses 1, confirms the number"). */
export function callbackNumberCheck(number: string, language: 'en' | 'fr'): string {
  const spelled = spellDigits(number);
  if (language === 'fr') return `Nous vous rappellerons au ${spelled}. Pour confirmer, appuyez sur 1. Pour donner un autre numéro, appuyez sur 2.`;
  return `We will call you back at ${spelled}. To confirm, press 1. To give another number, press 2.`;
}

export function callbackNumberAsk(language: 'en' | 'fr'): string {
  if (language === 'fr') return 'Composez le numéro auquel vous rappeler, puis appuyez sur dièse.';
  return 'Enter the number to call you back at, then press pound.';
}

export function callbackNumberInvalid(language: 'en' | 'fr'): string {
  if (language === 'fr') return 'Ce numéro n’est pas valide.';
  return 'That number is not valid.';
}

/** A caller who did not confirm a number: the callback is not taken, and it waits on as before. */
export function callbackNotConfirmed(language: 'en' | 'fr'): string {
  if (language === 'fr') return 'Vous gardez votre place dans la file d’attente.';
  return 'You keep your place in the queue.';
}
