import { en, type MessageKey } from './en.ts';
import { fr } from './fr.ts';

export type Lang = 'en' | 'fr';
export type { MessageKey };
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
