/**
 * A browser softphone for media-server tests: Debian's Chromium with a fake
 * microphone, running sip.js's SimpleUser from a page served here, over
 * SIP/WebSocket to the edge. Both peers, SIP and WebRTC, are code we did not
 * write; the page only reads Chromium's own RTP statistics.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../../tests/support/browser.ts';

const require = createRequire(import.meta.url);
const SIP_JS_LIB = path.join(path.dirname(require.resolve('sip.js/package.json')), 'lib');
const PAGE = path.join(import.meta.dirname, 'browser-phone', 'page.html');

export interface BrowserMediaPeak {
  inboundPackets: number;
  inboundEnergy: number;
  outboundPackets: number;
  codec: string | null;
}

export interface BrowserPhones {
  open(credentials: { username: string; password: string }): Promise<BrowserPhone>;
  close(): Promise<void>;
}

export interface BrowserPhone {
  page: Page;
  call(number: string): Promise<void>;
  hangUp(): Promise<void>;
  events(): Promise<string[]>;
  waitForEvent(name: string, ms?: number): Promise<void>;
  peak(): Promise<BrowserMediaPeak>;
}

export async function startBrowserPhones(wsPort: number, domain: string): Promise<BrowserPhones> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const file = url.pathname.startsWith('/sip/') ? path.join(SIP_JS_LIB, path.normalize(url.pathname.slice(5))) : PAGE;
    if (!file.startsWith(SIP_JS_LIB) && file !== PAGE) return void res.writeHead(404).end();
    fs.readFile(file, (err, body) => {
      if (err) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': file.endsWith('.html') ? 'text/html' : 'text/javascript' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const httpPort = (server.address() as { port: number }).port;
  const browser: Browser = await launchChromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required'], { product: false });
  return {
    async open({ username, password }) {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${httpPort}/`);
      await page.waitForFunction(() => typeof (window as unknown as { startPhone?: unknown }).startPhone === 'function');
      await page.evaluate(
        ([server, aor, u, p]) => (window as unknown as { startPhone(...a: string[]): Promise<void> }).startPhone(server!, aor!, u!, p!),
        [`ws://127.0.0.1:${wsPort}`, `sip:${username}@${domain}`, username, password],
      );
      const phone: BrowserPhone = {
        page,
        call: (number) => page.evaluate((n) => (window as unknown as { callNumber(t: string): Promise<void> }).callNumber(n), `sip:${number}@${domain}`),
        hangUp: () => page.evaluate(() => (window as unknown as { hangUp(): Promise<void> }).hangUp()),
        events: () => page.evaluate(() => [...(window as unknown as { events: string[] }).events]),
        async waitForEvent(name, ms = 10_000) {
          await page.waitForFunction((n) => (window as unknown as { events: string[] }).events.includes(n), name, { timeout: ms });
        },
        peak: () => page.evaluate(() => ({ ...(window as unknown as { peak: BrowserMediaPeak }).peak })),
      };
      return phone;
    },
    async close() {
      await browser.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
