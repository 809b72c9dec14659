/**
 * A greeting recorded in the browser, as a WAV file the server's one check of uploaded
 * audio takes (WAV or MP3 by their first bytes): MediaRecorder gives WebM/Opus (Chromium)
 * or Ogg (Firefox), which the browser decodes to PCM here; the server then converts it
 * to the media format, as an uploaded file.
 */
export async function recordingToWav(recording: Blob): Promise<Blob> {
  const context = new AudioContext();
  try {
    const audio = await context.decodeAudioData(await recording.arrayBuffer());
    return new Blob([wavOf(mixDown(audio), audio.sampleRate)], { type: 'audio/wav' });
  } finally {
    await context.close();
  }
}

function mixDown(audio: AudioBuffer): Float32Array {
  const out = new Float32Array(audio.length);
  for (let c = 0; c < audio.numberOfChannels; c++) {
    const data = audio.getChannelData(c);
    for (let i = 0; i < out.length; i++) out[i]! += data[i]! / audio.numberOfChannels;
  }
  return out;
}

/** 16-bit mono PCM in a RIFF/WAVE container (the canonical 44-byte header). */
export function wavOf(samples: Float32Array, rate: number): ArrayBuffer {
  const buffer = new ArrayBuffer(44 + samples.length * 2);
  const view = new DataView(buffer);
  const ascii = (at: number, text: string) => [...text].forEach((ch, i) => view.setUint8(at + i, ch.charCodeAt(0)));
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + samples.length * 2, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) view.setInt16(44 + i * 2, Math.round(Math.max(-1, Math.min(1, samples[i]!)) * 0x7fff), true);
  return buffer;
}
