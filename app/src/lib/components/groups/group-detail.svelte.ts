import { goto, invalidateAll } from '$app/navigation';
import { refusalText } from '#lib/api-refusal.ts';
import type { Translate } from '#lib/i18n/index.ts';
import type { NoticeMessage } from '#lib/components/Notice.svelte';

/** The features whose groups have a page of their own (`…/[id]`): paging groups, shared lines, call queues. */
export type GroupDetailFeature = 'paging' | 'sharedLines' | 'callQueues.admin';

interface GroupDetailConfig {
  feature: GroupDetailFeature;
  /** The group's API resource: its update and DELETE. */
  url: () => string;
  /** The list the page goes back to once the group is deleted. */
  listPath: string;
  /** The page's translator (it follows the page's language). */
  t: () => Translate;
}

/**
 * What a group's own page does with its group: save a form's part of it and delete it, each saying on
 * the page what happened (saved, or the refusal in the feature's words, refusalText). One object owns the
 * page's notices: one per form of the page (a page with one form uses 'main'). The page then reloads its data.
 */
export class GroupDetail {
  /** What the page last said, per form. */
  messages = $state<Record<string, NoticeMessage | undefined>>({});
  readonly #config: GroupDetailConfig;

  constructor(config: GroupDetailConfig) {
    this.#config = config;
  }

  /** The notice of the page's one form. */
  get message(): NoticeMessage | null {
    return this.messages['main'] ?? null;
  }

  /** Sends a form's part of the group (PATCH by default; PUT where it replaces a resource); true once saved. */
  async save(body: unknown, options: { method?: 'PATCH' | 'PUT'; url?: string; form?: string } = {}): Promise<boolean> {
    const { feature, t } = this.#config;
    const form = options.form ?? 'main';
    const res = await fetch(options.url ?? this.#config.url(), { method: options.method ?? 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) {
      this.messages[form] = { kind: 'error', text: await refusalText(res, t(), feature) };
      return false;
    }
    this.messages[form] = { kind: 'success', text: t()('common.saved') };
    await invalidateAll();
    return true;
  }

  /** Deletes the group once the admin confirms `question`, then goes back to the list; a refusal stays on the page. */
  async remove(question: string): Promise<void> {
    if (!confirm(question)) return;
    const res = await fetch(this.#config.url(), { method: 'DELETE' });
    if (!res.ok) {
      this.messages['main'] = { kind: 'error', text: await refusalText(res, this.#config.t(), this.#config.feature) };
      return;
    }
    await goto(this.#config.listPath);
  }
}
