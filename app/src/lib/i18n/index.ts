import { en as sharedEn } from './en.ts';
import { fr as sharedFr } from './fr.ts';
import { featureDictionaries } from './features/index.ts';

export type Lang = 'en' | 'fr';

/** Every key: the shared dictionaries' and each feature's (features/index.ts). */
const en = { ...sharedEn, ...featureDictionaries.en };
const fr: Record<keyof typeof en, string> = { ...sharedFr, ...featureDictionaries.fr };
export type MessageKey = keyof typeof en;
export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

const dictionaries = { en, fr } as const;

export function translator(lang: Lang): Translate {
  const dict = dictionaries[lang] ?? en;
  return (key, params) => {
    let text: string = dict[key] ?? en[key] ?? key;
    if (params) for (const [k, v] of Object.entries(params)) text = text.replaceAll(`{${k}}`, String(v));
    return text;
  };
}

export function isLang(v: unknown): v is Lang {
  return v === 'en' || v === 'fr';
}

/** The best of our languages for an Accept-Language header. */
export function langFromAcceptLanguage(header: string | null): Lang {
  for (const part of (header ?? '').split(',')) {
    const tag = part.trim().slice(0, 2).toLowerCase();
    if (isLang(tag)) return tag;
  }
  return 'en';
}
