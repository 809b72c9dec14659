/**
 * The signed-in user's one softphone for the whole single-page app. The
 * portal layout starts it (SoftphoneHost) and keeps it, with its audio
 * element, across page navigations: calls ring on every page, and leaving
 * the Phone page does not hang anything up. Pages read it from here.
 */
import type { Softphone, SoftphoneState } from './softphone.ts';

/** Why the softphone is not running (a message key's last part under `phone.`). */
export type SoftphoneProblem = 'noExtension' | 'noSipEdge' | 'noMicrophone';

class SoftphoneSession {
  /** The running user agent, once started. */
  phone = $state.raw<Softphone | null>(null);
  /** Its state as it last reported it (a fresh copy each time, so views update). */
  state = $state.raw<SoftphoneState | null>(null);
  problem = $state<SoftphoneProblem | null>(null);
  private audio: HTMLAudioElement | null = null;
  private starting: Promise<void> | null = null;
  /** Bumped by stop(): a start still under way then gives up instead of registering after sign-out. */
  private generation = 0;

  /**
   * Fetches the registration the server issues, checks that a microphone
   * can be used, and registers. Does nothing while running or starting;
   * after a problem (the SIP edge was down), tries again.
   */
  start(audio: HTMLAudioElement): Promise<void> {
    this.audio = audio;
    if (this.phone) return Promise.resolve();
    this.starting ??= this.run(audio, this.generation).finally(() => (this.starting = null));
    return this.starting;
  }

  /** Tries again after a problem, with the audio element the layout gave. */
  retry(): Promise<void> {
    return this.audio ? this.start(this.audio) : Promise.resolve();
  }

  /** Hangs up, unregisters and stops the user agent (sign-out, or leaving the portal). */
  async stop(): Promise<void> {
    this.generation++;
    const phone = this.phone;
    this.phone = null;
    this.state = null;
    delete (window as unknown as { carillonSoftphone?: Softphone }).carillonSoftphone;
    await phone?.stop();
  }

  private async run(audio: HTMLAudioElement, generation: number): Promise<void> {
    this.problem = null;
    const res = await fetch('/api/me/softphone');
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as { error?: string };
      this.problem = body.error === 'no_extension' ? 'noExtension' : 'noSipEdge';
      return;
    }
    try {
      await navigator.mediaDevices.getUserMedia({ audio: true }).then((s) => s.getTracks().forEach((track) => track.stop()));
    } catch {
      this.problem = 'noMicrophone';
      return;
    }
    if (typeof Notification !== 'undefined' && Notification.permission === 'default') void Notification.requestPermission().catch(() => undefined);
    const { Softphone } = await import('./softphone.ts');
    const registration = await res.json();
    if (generation !== this.generation) return;
    const phone = new Softphone(registration, audio, (s) => (this.state = s));
    this.phone = phone;
    this.state = { ...phone.state };
    (window as unknown as { carillonSoftphone?: Softphone }).carillonSoftphone = phone;
    await phone.start();
  }
}

export const softphone = new SoftphoneSession();
