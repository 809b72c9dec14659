import type { MessageKey } from '#lib/i18n/index.ts';

/** What RecordedAudio.svelte says, by message key: a rule's greeting and the user's recorded name each have their own. */
export interface RecordedAudioLabels {
  title: MessageKey;
  present: MessageKey;
  absent: MessageKey;
  play: MessageKey;
  upload: MessageKey;
  record: MessageKey;
  stop: MessageKey;
  recording: MessageKey;
  reset: MessageKey;
  help: MessageKey;
  saveFirst: MessageKey;
  saved: MessageKey;
  resetDone: MessageKey;
  /** With {reason}. */
  refused: MessageKey;
  /** With {reason}. */
  noMicrophone: MessageKey;
}
