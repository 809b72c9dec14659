import { afterAll, afterEach, expect } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './browser.ts';
import { startActivatedProduct, type ActivatedProduct } from './api-product.ts';
import { FAKE_MEDIA_FLAGS, signIn } from './softphone-users.ts';
import { STRONG } from './http-client.ts';

export interface AdminPages extends ActivatedProduct {
  browser: Browser;
  /** The administrator's page in Chromium, signed in (15 s default timeout). */
  page: Page;
}

/**
 * The setup every admin-page browser test shares: `startActivatedProduct` (scratch database,
 * activation, standard users alice 201 and bob 202 unless told otherwise, all with `STRONG.password`),
 * onboarding marked done so pages open directly, then Chromium with the administrator signed in.
 * Call at the top of a test file: it registers the teardown (browser, product, scratch database; the
 * product must exit 0) and a screenshot of the page when a test fails. `start()` is for the file's
 * `beforeAll`; `prepare` runs before the browser opens (API calls to set the account up). With
 * `microphone` (a WAV file), Chromium's fake microphone plays that file and the page may use it.
 */
export function adminPages(options: { scratchName: string; unreleased?: string; users?: { extension: string; name: string }[]; microphone?: string }): { start(prepare?: (ctx: ActivatedProduct) => Promise<void>): Promise<AdminPages> } {
  let ctx: AdminPages | undefined;
  let started: ActivatedProduct | undefined;
  let browser: Browser | undefined;

  afterEach(async (test) => {
    if (test.task.result?.state === 'fail' && ctx) {
      const file = `${ctx.product.dataDir}/failure.png`;
      await ctx.page.screenshot({ path: file }).catch(() => {});
      console.error(`screenshot: ${file} at ${ctx.page.url()}`);
    }
  });

  afterAll(async () => {
    await browser?.close();
    if (started) expect(await started.stop()).toBe(0);
  });

  return {
    async start(prepare) {
      started = await startActivatedProduct({
        scratchName: options.scratchName,
        env: options.unreleased ? { ENABLE_UNRELEASED: options.unreleased } : {},
        users: options.users ?? [
          { extension: '201', name: 'alice' },
          { extension: '202', name: 'bob' },
        ],
        password: STRONG.password,
      });
      await started.db.updateTable('accounts').set({ setup_completed_at: new Date() }).execute();
      await prepare?.(started);
      browser = await launchChromium(options.microphone ? [...FAKE_MEDIA_FLAGS, `--use-file-for-fake-audio-capture=${options.microphone}`] : []);
      const page = await signIn(browser, started.product.url, 'admin@demo.carillon.localhost', STRONG.password, options.microphone ? ['microphone'] : []);
      page.setDefaultTimeout(15_000);
      ctx = { ...started, browser, page };
      return ctx;
    },
  };
}
