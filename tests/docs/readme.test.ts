import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** README.md says which Debian packages setup installs: it must name every one scripts/setup.sh installs. */
const root = path.resolve(import.meta.dirname, '../..');

function setupPackages(): string[] {
  const script = fs.readFileSync(path.join(root, 'scripts/setup.sh'), 'utf8');
  const lists = [...script.matchAll(/^(?:runtime|test)_pkgs=\(([^)]*)\)/gm)].map((m) => m[1]!.trim().split(/\s+/));
  expect(lists).toHaveLength(2);
  return lists.flat();
}

describe('README', () => {
  it('lists every Debian package scripts/setup.sh installs', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const missing = setupPackages().filter((p) => !readme.includes(`\`${p}\``));
    expect(missing).toEqual([]);
  });
});
