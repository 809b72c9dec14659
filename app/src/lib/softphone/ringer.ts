/**
 * The incoming-call ring, made with Web Audio (the North American 440 + 480 Hz
 * ring, 2 s on, 4 s off): no file to load, and it stops the moment the call
 * is answered or gone.
 */
export class Ringer {
  private context: AudioContext | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  start(): void {
    if (this.timer) return;
    this.context ??= new AudioContext();
    const ring = () => {
      const ctx = this.context!;
      const gain = ctx.createGain();
      gain.gain.value = 0.1;
      gain.connect(ctx.destination);
      for (const hz of [440, 480]) {
        const osc = ctx.createOscillator();
        osc.frequency.value = hz;
        osc.connect(gain);
        osc.start();
        osc.stop(ctx.currentTime + 2);
      }
    };
    ring();
    this.timer = setInterval(ring, 6000);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
