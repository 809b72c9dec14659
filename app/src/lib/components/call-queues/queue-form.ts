import type { QueueExitAction, QueuePrompt, QueueRuleTarget } from '@carillon/domain';

/**
 * A queue's exit action (past the longest wait, queue full, after hours) as its form edits it: every field
 * of every kind at once, so switching the kind back and forth loses nothing typed.
 */
export interface ExitDraft {
  /** 'queue' only for a custom rule's target (CQ-12: the caller queues as usual). */
  type: QueueRuleTarget['type'];
  extension: string;
  text: string;
  /** A library prompt the action already plays: kept as is, the form edits only text read aloud. */
  audio: QueuePrompt | null;
}

export function exitDraft(action: QueueRuleTarget): ExitDraft {
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

/** A custom rule's target (CQ-12): the queue as usual, or one of the exit actions. */
export function ruleTarget(draft: ExitDraft): QueueRuleTarget {
  return draft.type === 'queue' ? { type: 'queue' } : exitAction(draft);
}

/** A prompt as its form edits it (CQ-05): none, text read aloud, or a prompt of the library by its name. */
export interface PromptDraft {
  mode: 'none' | QueuePrompt['mode'];
  text: string;
  prompt: string;
}

export function promptDraft(prompt: QueuePrompt | null): PromptDraft {
  return { mode: prompt?.mode ?? 'none', text: prompt?.mode === 'tts' ? prompt.text : '', prompt: prompt?.mode === 'audio' ? prompt.prompt : '' };
}

export function promptOf(draft: PromptDraft): QueuePrompt | null {
  if (draft.mode === 'tts') return { mode: 'tts', text: draft.text.trim() };
  if (draft.mode === 'audio') return { mode: 'audio', prompt: draft.prompt.trim() };
  return null;
}
