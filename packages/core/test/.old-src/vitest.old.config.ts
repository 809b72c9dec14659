import { defineConfig } from 'vitest/config';
export default defineConfig({
  resolve: { alias: { '@carillon/core': '/work/main/packages/core/test/.old-src/packages/core/src/index.ts' } },
  test: {
    include: ['packages/core/test/setup-wizard.test.ts'],
    pool: 'forks', testTimeout: 8000, hookTimeout: 10000,
    globalSetup: ['/work/main/tests/support/global-setup.ts'],
  },
});
