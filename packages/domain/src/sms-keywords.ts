/**
 * Opt-out and opt-in keywords of texts received (inventory 3 §13.5 "opt-out/opt-in
 * management"; issue 18: STOP/ARRET, START and HELP/AIDE). They are honoured
 * before anything is sent: an inbound STOP records the opt-out before the next
 * outbound message to that number is looked at. A keyword counts only as the
 * whole message (case, accents, surrounding spaces and final punctuation aside),
 * so "please stop by tomorrow" is an ordinary text.
 */

export type SmsKeyword = 'opt-out' | 'opt-in' | 'help';

const KEYWORDS: Readonly<Record<string, SmsKeyword>> = {
  STOP: 'opt-out',
  STOPALL: 'opt-out',
  UNSUBSCRIBE: 'opt-out',
  CANCEL: 'opt-out',
  END: 'opt-out',
  QUIT: 'opt-out',
  ARRET: 'opt-out',
  START: 'opt-in',
  UNSTOP: 'opt-in',
  HELP: 'help',
  INFO: 'help',
  AIDE: 'help',
};

export function smsKeywordOf(body: string): SmsKeyword | null {
  const word = body
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .trim()
    .replace(/[.!?]+$/u, '')
    .toUpperCase();
  return KEYWORDS[word] ?? null;
}

/** The automatic answer to each keyword, in the language of the keyword's word list it came from. */
export function smsKeywordReply(keyword: SmsKeyword, companyName: string, language: 'en' | 'fr'): string {
  const replies = {
    en: {
      'opt-out': `${companyName}: you are unsubscribed and will receive no more messages. Reply START to subscribe again.`,
      'opt-in': `${companyName}: you are subscribed again. Reply STOP to unsubscribe, HELP for help.`,
      help: `${companyName}: reply STOP to unsubscribe, START to subscribe again.`,
    },
    fr: {
      'opt-out': `${companyName} : vous êtes désinscrit et ne recevrez plus de messages. Répondez START pour vous réinscrire.`,
      'opt-in': `${companyName} : vous êtes réinscrit. Répondez ARRET pour vous désinscrire, AIDE pour de l'aide.`,
      help: `${companyName} : répondez ARRET pour vous désinscrire, START pour vous réinscrire.`,
    },
  } as const;
  return replies[language][keyword];
}

/** The language a keyword suggests (ARRET and AIDE are French); null when it says nothing. */
export function smsKeywordLanguage(body: string): 'en' | 'fr' | null {
  const word = body.normalize('NFD').replace(/\p{M}/gu, '').trim().replace(/[.!?]+$/u, '').toUpperCase();
  if (word === 'ARRET' || word === 'AIDE') return 'fr';
  return word in KEYWORDS ? 'en' : null;
}
