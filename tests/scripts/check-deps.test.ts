import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { checkDependencies, KNOWN_EXCEPTIONS } from '../../scripts/check-deps.ts';

/** A throwaway repository tree: path -> file content. */
function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-deps-'));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  roots.push(root);
  return root;
}
const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

const clean = {
  'packages/contracts/src/jobs.ts': "import { z } from 'zod';\nexport const x = z.string();\n",
  'packages/core/src/index.ts': "import { x } from '@carillon/contracts/jobs';\nexport { x };\n",
  'app/src/lib/server/jobs.ts': "import { x } from '@carillon/contracts/jobs';\nimport { y } from '@carillon/core';\n",
  'workers/src/main.ts': "import type { x } from '@carillon/contracts';\n",
  'media-server/src/sip/message/parse.ts': "export const parse = 1;\n",
  'media-server/src/calls/call.ts': "import { parse } from '../sip/message/parse.ts';\nimport { Bridge } from '../media/bridge.ts';\n",
  'media-server/src/media/bridge.ts': 'export class Bridge {}\n',
  'media-server/src/main.ts': "import './calls/call.ts';\nimport './sip/message/parse.ts';\n",
};

describe('the dependency check', () => {
  it('passes a tree that follows the rules', () => {
    expect(checkDependencies(tree(clean), [])).toEqual([]);
  });

  it('catches a service importing another, by name or by path, in .ts and .svelte files', () => {
    const root = tree({
      ...clean,
      'app/src/lib/server/fax.ts': "import { enqueueFax } from '@carillon/workers';\n",
      'app/src/routes/+page.svelte': "<script lang=\"ts\">\n  import { PRESENCE_CHANNEL } from '@carillon/media-server';\n</script>\n<p>x</p>\n",
      'workers/src/peek.ts': "import { Bridge } from '../../media-server/src/media/bridge.ts';\n",
    });
    const found = checkDependencies(root, []).map((v) => `${v.file} ${v.specifier}`);
    expect(found.sort()).toEqual(['app/src/lib/server/fax.ts @carillon/workers', 'app/src/routes/+page.svelte @carillon/media-server', 'workers/src/peek.ts ../../media-server/src/media/bridge.ts']);
  });

  it('catches a package importing a service, and contracts importing any workspace package', () => {
    const root = tree({ ...clean, 'packages/core/src/bad.ts': "export type { Q } from '@carillon/workers';\n", 'packages/contracts/src/bad.ts': "import { y } from '@carillon/core';\n" });
    expect(checkDependencies(root, []).map((v) => [v.file, v.rule])).toEqual([
      ['packages/contracts/src/bad.ts', '@carillon/contracts imports no other workspace package'],
      ['packages/core/src/bad.ts', 'a package imports no service'],
    ]);
  });

  it('holds media-server to its layers: media/ never imports calls/, sip/ nothing above it, apps/ neither sip/ nor media/ (they act through CallHandle)', () => {
    const root = tree({
      ...clean,
      'media-server/src/media/leak.ts': "import type { Call } from '../calls/call.ts';\n",
      'media-server/src/sip/dialog/up.ts': "const m = await import('../../registrar/registrar.ts');\n",
      'media-server/src/registrar/registrar.ts': 'export {};\n',
      'media-server/src/apps/ivr/ivr.ts': "import { parse } from '../../sip/message/parse.ts';\nimport { Bridge } from '../../media/bridge.ts';\n",
      'media-server/src/surprise/x.ts': "import { Bridge } from '../media/bridge.ts';\n",
      // The worker channel is a leaf that media/ and registrar/ use; it uses neither.
      'media-server/src/threads/worker-channel.ts': "import { Bridge } from '../media/bridge.ts';\n",
      'media-server/src/media/engine.ts': "import { WorkerChannel } from '../threads/worker-channel.ts';\n",
      'media-server/src/registrar/threads.ts': "import { WorkerChannel } from '../threads/worker-channel.ts';\n",
    });
    expect(checkDependencies(root, []).map((v) => `${v.file}: ${v.rule}`).sort()).toEqual([
      'media-server/src/apps/ivr/ivr.ts: media-server layer apps/ may not import media/',
      'media-server/src/apps/ivr/ivr.ts: media-server layer apps/ may not import sip/',
      'media-server/src/media/leak.ts: media-server layer media/ may not import calls/',
      'media-server/src/sip/dialog/up.ts: media-server layer sip/ may not import registrar/',
      'media-server/src/surprise/x.ts: media-server/src/surprise/ is not a known layer: add it to ARCHITECTURE.md and MEDIA_SERVER_LAYERS',
      'media-server/src/threads/worker-channel.ts: media-server layer threads/ may not import media/',
    ]);
  });

  it('excuses a listed exception, and fails one that no longer matches an import', () => {
    const root = tree({ ...clean, 'media-server/src/media/leak.ts': "import type { Call } from '../calls/call.ts';\n" });
    const exceptions = [
      { file: 'media-server/src/media/leak.ts', layer: 'calls', why: 'test' },
      { file: 'media-server/src/media/bridge.ts', layer: 'calls', why: 'gone' },
    ];
    expect(checkDependencies(root, exceptions)).toEqual([{ file: 'media-server/src/media/bridge.ts', specifier: '(calls/)', rule: 'known exception no longer needed: remove it from KNOWN_EXCEPTIONS' }]);
  });

  it('passes on this repository, and as a command fails with the file, the import and the rule', () => {
    expect(checkDependencies(path.resolve(import.meta.dirname, '../..'), KNOWN_EXCEPTIONS)).toEqual([]);
    const root = tree({ ...clean, 'media-server/src/media/leak.ts': "import type { Call } from '../calls/call.ts';\n" });
    let stderr = '';
    try {
      execFileSync(process.execPath, [path.resolve(import.meta.dirname, '../../scripts/check-deps.ts'), root], { stdio: 'pipe' });
    } catch (err) {
      stderr = String((err as { stderr: Buffer }).stderr);
      expect((err as { status: number }).status).toBe(1);
    }
    expect(stderr).toContain("media-server/src/media/leak.ts: imports '../calls/call.ts': media-server layer media/ may not import calls/");
  });
});
