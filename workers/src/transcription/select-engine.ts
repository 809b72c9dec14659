import type { Config } from '@carillon/config';
import type { TranscriptionEngine } from './engine.ts';
import { pocketsphinxEngine } from './pocketsphinx.ts';
import { whisperCppEngine } from './whisper-cpp.ts';

/** whisper.cpp when a model is configured, else Debian's pocketsphinx (offline default). */
export function selectTranscriptionEngine(config: Pick<Config, 'WHISPER_MODEL_PATH' | 'WHISPER_CPP_PATH' | 'POCKETSPHINX_MODEL_DIR'>): TranscriptionEngine {
  if (config.WHISPER_MODEL_PATH) return whisperCppEngine({ modelPath: config.WHISPER_MODEL_PATH, binary: config.WHISPER_CPP_PATH });
  return pocketsphinxEngine({ modelDir: config.POCKETSPHINX_MODEL_DIR });
}
