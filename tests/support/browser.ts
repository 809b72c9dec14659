import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';

/**
 * Debian's Chromium, headless, with the flags this machine's closed network needs. For the product's pages
 * (the default), `goto` also waits until the page is hydrated; pages of our own (`product: false`) do not.
 */
export async function launchChromium(extraArgs: string[] = [], { product = true }: { product?: boolean } = {}): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
  if (product) waitForHydrationOnEveryPage(browser);
  return browser;
}

/**
 * `page.goto` resolves at the load event, but SvelteKit hydrates a moment later; on a loaded machine a click
 * in between (a language select, a button with a handler) is lost. Every page of this browser therefore
 * waits, after `goto` of an HTML page and after `waitForURL`, for the mark the product's root layout sets once
 * it is mounted.
 */
function waitForHydrationOnEveryPage(browser: Browser): void {
  const scripted = (options?: BrowserContextOptions) => options?.javaScriptEnabled !== false;
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const context = await newContext(options);
    if (scripted(options)) context.on('page', waitForHydrationOnGoto);
    return context;
  };
  const newPage = browser.newPage.bind(browser);
  browser.newPage = async (options) => {
    const page = await newPage(options);
    if (scripted(options)) waitForHydrationOnGoto(page);
    return page;
  };
}

const patched = new WeakSet<Page>();

function waitForHydrationOnGoto(page: Page): void {
  if (patched.has(page)) return;
  patched.add(page);
  const goto = page.goto.bind(page);
  page.goto = async (url, options) => {
    const response = await goto(url, options);
    // Refusals (403 from the access policy, …) are static error pages that never hydrate.
    if (response?.ok() && response.headers()['content-type']?.startsWith('text/html')) {
      await page.locator('html[data-hydrated]').waitFor({ state: 'attached', timeout: 30_000 });
    }
    return response;
  };
  // The same after a navigation the page made itself (a form posted, then its redirect): a field filled
  // before hydration is reset to the server's value when the page hydrates. A page with no script (a
  // static error page) never hydrates and is not waited for.
  const waitForURL = page.waitForURL.bind(page);
  page.waitForURL = async (url, options) => {
    await waitForURL(url, options);
    await page.waitForFunction(() => document.documentElement.dataset.hydrated === 'true' || document.scripts.length === 0, undefined, { timeout: 30_000 });
  };
}
