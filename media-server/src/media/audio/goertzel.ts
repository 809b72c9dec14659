/**
 * Goertzel algorithm: the power of one frequency in a block of samples, for
 * the price of one multiply-add per sample. Used by the in-band DTMF detector
 * and by tests that check which tone crossed a call.
 */
export function goertzelPower(
  samples: ArrayLike<number>,
  frequency: number,
  sampleRate: number,
  offset = 0,
  length = samples.length - offset,
): number {
  const coefficient = 2 * Math.cos((2 * Math.PI * frequency) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < length; i++) {
    const s0 = samples[offset + i]! + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coefficient * s1 * s2;
}

/**
 * Amplitude of a sine at `frequency` that would produce the measured power,
 * for a block whose length is a whole number of periods: power = (A·N/2)².
 */
export function goertzelAmplitude(
  samples: ArrayLike<number>,
  frequency: number,
  sampleRate: number,
  offset = 0,
  length = samples.length - offset,
): number {
  return (2 * Math.sqrt(Math.max(0, goertzelPower(samples, frequency, sampleRate, offset, length)))) / length;
}

/** Sum of squares: the block's total energy, to compare a tone's share against. */
export function blockEnergy(samples: ArrayLike<number>, offset = 0, length = samples.length - offset): number {
  let e = 0;
  for (let i = 0; i < length; i++) e += samples[offset + i]! * samples[offset + i]!;
  return e;
}
