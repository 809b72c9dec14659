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
  const spelled = number.split('').join(' ');
  if (language === 'fr') return `Nous vous rappellerons au ${spelled}. Vous gardez votre place. Au revoir.`;
  return `We will call you back at ${spelled}. You keep your place. Goodbye.`;
}
