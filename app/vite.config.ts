import { sveltekit } from '@sveltejs/kit/vite';
import adapter from '@sveltejs/adapter-node';
import { defineConfig, type Plugin } from 'vite';

/** In `vite dev`, socket.io rides on Vite's own HTTP server, as it does on adapter-node's in production. */
function liveEventsInDev(): Plugin {
  return {
    name: 'carillon-live-events',
    apply: 'serve',
    async configureServer(server) {
      if (!server.httpServer) return;
      const { attachLiveEvents } = await import('./src/lib/server/live-events.ts');
      // Vite serves plain HTTP/1.1 in dev, never HTTP/2.
      await attachLiveEvents(server.httpServer as import('node:http').Server);
    },
  };
}

export default defineConfig({
  plugins: [
    sveltekit({
      adapter: adapter({ out: 'build' }),
      // The same origin check is made in hooks.server.ts, for cookie-carrying requests only, so integrations with API tokens are not refused.
      csrf: { trustedOrigins: ['*'] },
      // SvelteKit writes the policy with a nonce on its inline start-up script; hooks.server.ts
      // adds the SIP WebSocket (per request) to connect-src. Inline styles: Svelte's style
      // attributes and transitions. blob: and data: for images and media made in the page.
      csp: {
        mode: 'auto',
        directives: {
          'default-src': ['self'],
          'script-src': ['self'],
          'style-src': ['self', 'unsafe-inline'],
          'img-src': ['self', 'data:', 'blob:'],
          'media-src': ['self', 'blob:'],
          'font-src': ['self', 'data:'],
          'connect-src': ['self'],
          'worker-src': ['self', 'blob:'],
          'object-src': ['none'],
          'base-uri': ['self'],
          'form-action': ['self'],
          'frame-ancestors': ['none'],
        },
      },
    }),
    liveEventsInDev(),
  ],
  // Workspace packages run as they are on Node 24 (type stripping), beside the bundle, so the
  // server bundle shares their single instances and their native dependencies (argon2, PGlite).
  ssr: {
    external: ['@node-rs/argon2', '@electric-sql/pglite', '@electric-sql/pglite-socket', '@carillon/config', '@carillon/db', '@carillon/core', '@carillon/domain', '@carillon/contracts'],
  },
  server: { fs: { allow: ['..'] } },
});
