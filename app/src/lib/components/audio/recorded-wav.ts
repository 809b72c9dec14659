/**
 * A greeting recorded in the browser, as a WAV file the server's one check of uploaded
 * audio takes (WAV or MP3 by their first bytes): MediaRecorder gives WebM/Opus (Chromium)
 * or Ogg (Firefox), which the browser decodes to PCM here; the server then converts it
 * to the media format, as an uploaded file.
 */
export async function recordingToWav(recording: Blob): Promise<Blob> {
  const context = new AudioContext();
  let audio: AudioBuffer;
  try {
    audio = await context.decodeAudioData(await recording.arrayBuffer());
  } finally {
    await context.close();
  }
  // Mixed down to mono at 16 kHz (twice telephone audio): three minutes make 5.8 MB, under the
  // upload limit (10 MB), where the capture rate (48 kHz) would make 17 MB.
  const offline = new OfflineAudioContext(1, Math.max(1, Math.ceil(audio.duration * RECORDED_RATE)), RECORDED_RATE);
  const source = offline.createBufferSource();
  source.buffer = audio;
  source.connect(offline.destination);
  source.start();
  const mono = await offline.startRendering();
  return new Blob([wavOf(mono.getChannelData(0), RECORDED_RATE)], { type: 'audio/wav' });
}

const RECORDED_RATE = 16_000;

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
