import { MENU_KEYS, type IvrMenu, type IvrSettings, type KeyAction, type MenuKey } from '@carillon/domain';
import type { MessageKey, Translate } from '#lib/i18n/index.ts';

/**
 * A menu as its form edits it (IVR-12, IVR-13, PR-05, PR-06), shared by the IVR editor and the visual
 * canvas: both edit the same data through the same form and save it with the same PATCH, so the canvas
 * is a view of the menus, not a second model of them.
 */
export type Menu = IvrMenu & { id: string };
export type ActionType = KeyAction['type'] | 'none';
export const ACTION_TYPES = ['none', 'connect', 'voicemail', 'directory', 'external'] as const;

export interface KeyDraft {
  type: ActionType;
  target: string;
}

export interface MenuDraft {
  number: string;
  name: string;
  language: 'en' | 'fr';
  promptMode: 'none' | 'tts' | 'audio';
  text: string;
  audio: string;
  keys: Record<MenuKey, KeyDraft>;
  ownGenericKeys: boolean;
  hash: IvrSettings['genericKeys']['hash'];
  star: IvrSettings['genericKeys']['star'];
}

export function keyDraft(a: KeyAction | undefined): KeyDraft {
  const target = a ? (a.type === 'connect' || a.type === 'voicemail' ? a.extension : a.type === 'external' ? a.number : '') : '';
  return { type: a?.type ?? 'none', target };
}

export function toDraft(m: IvrMenu, settings: IvrSettings | null): MenuDraft {
  return {
    number: m.number,
    name: m.name,
    language: m.language,
    promptMode: m.prompt?.mode ?? 'none',
    text: m.prompt?.mode === 'tts' ? m.prompt.text : '',
    audio: m.prompt?.mode === 'audio' ? m.prompt.prompt : '',
    keys: Object.fromEntries(MENU_KEYS.map((k) => [k, keyDraft(m.keys[k])])) as Record<MenuKey, KeyDraft>,
    ownGenericKeys: m.genericKeys !== null,
    hash: m.genericKeys?.hash ?? settings?.genericKeys.hash ?? 'repeat',
    star: m.genericKeys?.star ?? settings?.genericKeys.star ?? 'previous',
  };
}

export function keyAction(d: KeyDraft): KeyAction | undefined {
  const target = d.target.trim();
  switch (d.type) {
    case 'none':
      return undefined;
    case 'directory':
      return { type: 'directory' };
    case 'external':
      return { type: 'external', number: target };
    default:
      return { type: d.type, extension: target };
  }
}

/** The menu a draft describes, as the PATCH of /api/ivr/menus/[id] takes it (the server's zod schema checks it). */
export function draftMenu(draft: MenuDraft): IvrMenu {
  const keys: Partial<Record<MenuKey, KeyAction>> = {};
  for (const k of MENU_KEYS) {
    const a = keyAction(draft.keys[k]);
    if (a) keys[k] = a;
  }
  return {
    number: draft.number.trim(),
    name: draft.name.trim(),
    language: draft.language,
    prompt: draft.promptMode === 'tts' ? { mode: 'tts', text: draft.text.trim() } : draft.promptMode === 'audio' ? { mode: 'audio', prompt: draft.audio } : null,
    keys,
    genericKeys: draft.ownGenericKeys ? { hash: draft.hash, star: draft.star } : null,
  };
}

/** A refused write in words: the fields the server named, or its error code. */
export async function refusalText(t: Translate, res: Response): Promise<string> {
  const body = (await res.json().catch(() => ({}))) as { error?: string; detail?: string; fields?: Record<string, string> };
  return body.fields
    ? t('ivr.error.invalid', { fields: Object.entries(body.fields).map(([f, m]) => `${f}: ${m}`).join('; ') })
    : t(`ivr.error.${body.error ?? 'invalid'}` as MessageKey, { detail: body.detail ?? '', fields: '' });
}
