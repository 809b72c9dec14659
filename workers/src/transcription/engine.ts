/** One recognised word; times are from the start of the audio. */
export interface TranscriptWord {
  word: string;
  startMs: number;
  endMs: number;
  /** 0–1, as the engine reports it (pocketsphinx: posterior probability). */
  confidence: number;
}

export interface Transcript {
  text: string;
  words: TranscriptWord[];
  /** Mean of the word confidences; null when nothing was recognised. */
  confidence: number | null;
}

/** A language the engine has no model for: the job fails with this reason instead of producing garbage. */
export class UnsupportedLanguageError extends Error {
  constructor(engine: string, language: string, available: readonly string[]) {
    super(`the ${engine} engine has no model for language "${language}" (available: ${available.join(', ') || 'none'})`);
    this.name = 'UnsupportedLanguageError';
  }
}

/**
 * A speech-to-text engine. It reads the 16 kHz mono WAV that
 * `decodeToEngineWav` writes and reports how far it got (0–1) when it can.
 */
export interface TranscriptionEngine {
  readonly name: string;
  /**
   * Its model knows only wideband speech, so a call's recording (nothing above 4 kHz) must get a
   * noise floor in its upper band before it reads it (`decodeToEngineWav`'s fillNarrowband):
   * pocketsphinx's 16 kHz US English model turns telephone audio into other words without it.
   */
  readonly widebandOnly: boolean;
  /** Throws UnsupportedLanguageError when there is no model for this language (ISO 639-1: 'en', 'fr'). */
  checkLanguage(language: string): void;
  transcribe(wavPath: string, language: string, onProgress?: (fraction: number) => void): Promise<Transcript>;
}

export function meanConfidence(words: TranscriptWord[]): number | null {
  if (words.length === 0) return null;
  return Math.round((words.reduce((s, w) => s + w.confidence, 0) / words.length) * 1000) / 1000;
}
