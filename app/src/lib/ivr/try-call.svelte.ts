import { COMPANY_GREETING_MENU, companyGreetingText, DEFAULT_SINGLE_LEVEL, ivrStep, startIvr, withCompanyGreeting, type IvrConfig, type IvrContext, type IvrEvent, type IvrStep } from '@carillon/domain';

/**
 * The "try it" simulator's call (issue 14, IVR-22), shared by the IVR editor and the visual canvas: the
 * interpreter of @carillon/domain, the one calls run on, walked over a configuration in the browser.
 */
export class TryCall {
  /** Each step of the walk: the event that caused it (null for the first prompt, else its label) and the interpreter's step. */
  steps = $state<{ event: string | null; digit: string | null; step: IvrStep }[]>([]);
  /** The configuration the walk goes through (with the company greeting when it starts there). */
  private config: IvrConfig | null = null;
  private context: IvrContext = {};

  readonly current = $derived(this.steps.at(-1)?.step ?? null);
  /** Mid extension number, a silence is the inter-digit pause that ends the number. */
  readonly dialling = $derived(this.current?.effect.type === 'dialling');
  readonly ended = $derived(this.current?.state.ended != null);

  /**
   * A new call at `top` (a menu number, COMPANY_GREETING_MENU, or null for the business-hours menu). The
   * company greeting speaks in the account's language on a call; the try shows it in the page's (`language`).
   * `context` holds the numbers a caller may dial during a prompt.
   */
  start(config: IvrConfig, top: string | null, context: IvrContext, language: 'en' | 'fr', company: string, greetingName: string): void {
    const at = top || config.settings.businessHoursMenu || config.menus[0]?.number || null;
    const greeting = (config.settings.singleLevel ?? DEFAULT_SINGLE_LEVEL).greeting;
    this.config = at === COMPANY_GREETING_MENU ? withCompanyGreeting(config, greeting.mode === 'audio' ? greeting : { mode: 'tts', text: companyGreetingText(language, company) }, language, greetingName) : config;
    this.context = context;
    this.steps = [{ event: null, digit: null, step: startIvr(this.config, at) }];
  }

  /** The caller presses a key or stays silent; `label` is how the log shows a silence. */
  send(event: IvrEvent, silenceLabel: string): void {
    const current = this.current;
    if (!this.config || !current) return;
    const digit = event.type === 'digit' ? event.digit : null;
    this.steps = [...this.steps, { event: digit ?? silenceLabel, digit, step: ivrStep(this.config, current.state, event, this.context) }];
  }
}
