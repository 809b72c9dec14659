import type { QueueExitAction, QueuePrompt } from '@carillon/domain';

/**
 * A queue's exit action (past the longest wait, queue full, after hours) as its form edits it: every field
 * of every kind at once, so switching the kind back and forth loses nothing typed.
 */
export interface ExitDraft {
  type: QueueExitAction['type'];
  extension: string;
  text: string;
  /** A library prompt the action already plays: kept as is, the form edits only text read aloud. */
  audio: QueuePrompt | null;
}

export function exitDraft(action: QueueExitAction): ExitDraft {
  const message = action.type === 'disconnect' ? action.message : null;
  return {
    type: action.type,
    extension: action.type === 'extension' ? action.extension : '',
    text: message?.mode === 'tts' ? message.text : '',
    audio: message?.mode === 'audio' ? message : null,
  };
}

export function exitAction(draft: ExitDraft): QueueExitAction {
  if (draft.type === 'voicemail') return { type: 'voicemail' };
  if (draft.type === 'extension') return { type: 'extension', extension: draft.extension.trim() };
  const text = draft.text.trim();
  return { type: 'disconnect', message: text ? { mode: 'tts', text } : draft.audio };
}
