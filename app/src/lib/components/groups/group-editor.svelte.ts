import { invalidateAll } from '$app/navigation';
import { refusalText } from '#lib/api-refusal.ts';
import type { Translate } from '#lib/i18n/index.ts';
import type { NoticeMessage } from '#lib/components/Notice.svelte';
import type { GroupFeature } from './group-members.ts';

/** What GroupTable and GroupForm show and call: whether a form is open, its step and outcome. */
export interface GroupEditorState {
  readonly draft: object | null;
  readonly step: number;
  readonly steps: number;
  readonly view: number;
  readonly error: string | null;
  readonly busy: boolean;
  submit(ev: SubmitEvent): Promise<void>;
  back(): void;
  close(): void;
  remove(id: string, name: string): Promise<void>;
}

interface GroupEditorConfig<Draft, Body> {
  feature: GroupFeature;
  /** The groups' API: POST to it creates, `{api}/{id}` with `updateMethod` changes, DELETE deletes. */
  api: string;
  updateMethod: 'PATCH' | 'PUT';
  /** The form's steps (PU-02 has 2, MON-02 3, PK-02 one): Next until the last, whose submit saves. */
  steps: number;
  /** The page's translator (it follows the page's language). */
  t: () => Translate;
  /** What the save sends, from the form's fields. */
  body: (draft: Draft) => Body;
  /** The page's notice once saved. */
  saved: (body: Body) => string;
}

/**
 * The create/edit form of a group page and its notice: one object owns the open form (its fields, step,
 * refusal, whether a save is under way) and what the page last said. Saving and deleting go through the
 * group's API; a refusal is told in the feature's words (refusalText). The page then reloads its data.
 */
export class GroupEditor<Draft extends { id: string | null }, Body> implements GroupEditorState {
  /** The form's fields while it is open; null when it is closed. */
  draft = $state<Draft | null>(null);
  step = $state(1);
  /** Why the last save was refused, shown in the form. */
  error = $state<string | null>(null);
  /** The page's notice: a group saved, or a delete refused. */
  message = $state<NoticeMessage | null>(null);
  busy = $state(false);
  /**
   * A new number each time the form opens or changes step: GroupForm then moves the focus to its heading
   * (so a keyboard or screen-reader user knows where the form is) and shows the step's fields afresh
   * (the member picker's search and filters start empty).
   */
  view = $state(0);
  readonly #config: GroupEditorConfig<Draft, Body>;

  constructor(config: GroupEditorConfig<Draft, Body>) {
    this.#config = config;
  }

  get steps(): number {
    return this.#config.steps;
  }

  open(draft: Draft): void {
    this.draft = draft;
    this.step = 1;
    this.error = null;
    this.message = null;
    this.view++;
  }

  close(): void {
    this.draft = null;
  }

  back(): void {
    if (!this.draft || this.step === 1) return;
    this.step--;
    this.view++;
  }

  /** The form's submit: the next step, or on the last one the save (POST for a new group, else the update). */
  async submit(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const draft = this.draft;
    if (!draft) return;
    if (this.step < this.#config.steps) {
      this.step++;
      this.view++;
      return;
    }
    const { api, feature, updateMethod, t } = this.#config;
    const body = this.#config.body(draft);
    this.busy = true;
    const res = await fetch(draft.id ? `${api}/${draft.id}` : api, {
      method: draft.id ? updateMethod : 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    this.busy = false;
    if (!res.ok) {
      this.error = await refusalText(res, t(), feature);
      return;
    }
    this.message = { kind: 'success', text: this.#config.saved(body) };
    this.draft = null;
    await invalidateAll();
  }

  /** Deletes a group once the admin confirms; a refusal is the page's notice. */
  async remove(id: string, name: string): Promise<void> {
    const { api, feature } = this.#config;
    const t = this.#config.t();
    if (!confirm(t(`${feature}.confirmDelete`, { name }))) return;
    const res = await fetch(`${api}/${id}`, { method: 'DELETE' });
    this.message = res.ok ? null : { kind: 'error', text: await refusalText(res, t, feature) };
    await invalidateAll();
  }
}
