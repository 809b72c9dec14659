/**
 * The import rules of ARCHITECTURE.md, checked (run by scripts/test.sh after
 * eslint): `node scripts/check-deps.ts`. Exits 1 and prints each violation as
 * "file: imports 'specifier' (rule)". Imports are read with TypeScript's own
 * scanner (`ts.preProcessFile`), type-only and dynamic imports included.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export const SERVICES = ['app', 'media-server', 'workers'] as const;

/**
 * media-server's layers (its top-level folders under src/) and what each may
 * import besides itself. Files directly under src/ (main.ts, health.ts) are the
 * process's composition and may import any layer. A folder missing here is an
 * error: a new layer is written into ARCHITECTURE.md and here in one change.
 */
export const MEDIA_SERVER_LAYERS: Record<string, { may: readonly string[] } | { mayNot: readonly string[] }> = {
  // SIP itself: messages, transport, transactions, dialogs, digest auth. Knows nothing above it;
  // cache/ is a leaf of generic containers (bounded maps) that any layer may use.
  sip: { may: ['cache'] },
  sdp: { may: [] },
  cache: { may: [] },
  // The one typed worker channel for all thread RPC (media workers, registrar threads): a leaf.
  threads: { may: [] },
  // The media plane knows nothing of calls, registrations or SIP.
  media: { may: ['threads'] },
  presence: { may: [] },
  registrar: { may: ['sip', 'cache', 'threads'] },
  // The dial plan: what a dialled string means, as a Destination; reads configuration, knows nothing of SIP.
  routing: { may: ['cache'] },
  calls: { may: ['sip', 'sdp', 'media', 'cache', 'presence', 'routing', 'apps'] },
  // Commands from the app and configuration changes, over Redis: reaches calls through an interface main.ts wires.
  control: { may: [] },
  // Applications see a call through its handle (apps/call-handle.ts), never SIP, and never the call objects.
  apps: { may: ['routing', 'cache'] },
  // The SFU (issue 17): Router, WebRtcTransport, Producer, Consumer over the media plane's SRTP, ICE-lite
  // and DTLS; it runs in a worker thread and knows nothing of calls, SIP or applications.
  sfu: { may: ['media', 'threads'] },
  // Video meetings (issue 17): each meeting's Router and its peers' transports, producers and consumers on the SFU thread.
  meetings: { may: ['sfu'] },
};

/**
 * Imports that break a rule today and that issue 19 removes. This list only
 * shrinks: an entry that no longer matches an import fails the check too, so
 * it is deleted with the import it excused.
 */
export const KNOWN_EXCEPTIONS: readonly { file: string; layer: string; why: string }[] = [
  // The SIP edge is the composition root and lives under sip/ for now; issue 19 moves it to edge/.
  { file: 'media-server/src/sip/edge/sip-edge.ts', layer: 'calls', why: 'composition root inside sip/' },
  { file: 'media-server/src/sip/edge/sip-edge.ts', layer: 'registrar', why: 'composition root inside sip/' },
  { file: 'media-server/src/sip/edge/sip-edge.ts', layer: 'presence', why: 'composition root inside sip/' },
  { file: 'media-server/src/sip/edge/sip-edge.ts', layer: 'media', why: 'composition root inside sip/' },
  // Calls reach registrar internals (bindings, credentials, the failure throttle); issue 19 puts them behind the call context.
  { file: 'media-server/src/calls/call-engine.ts', layer: 'registrar', why: 'credentials, bindings and throttle of the registrar' },
  { file: 'media-server/src/calls/call-context.ts', layer: 'registrar', why: 'BindingStore in the call context' },
  { file: 'media-server/src/calls/binding-target.ts', layer: 'registrar', why: 'Binding type' },
];

export interface Violation {
  file: string;
  specifier: string;
  rule: string;
}

const SOURCE = /\.(ts|svelte)$/;

function sourceFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...sourceFiles(full));
    } else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

function importsOf(file: string): string[] {
  let text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.svelte')) text = [...text.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** Which unit a repository path belongs to: a service, `packages/<name>`, or null (scripts, tests, …). */
function unitOf(rel: string): string | null {
  const [first, second] = rel.split('/');
  if ((SERVICES as readonly string[]).includes(first!)) return first!;
  if (first === 'packages' && second) return `packages/${second}`;
  return null;
}

/** The repository path an import points to, or null for a package outside the workspace. */
function resolve(root: string, fromRel: string, specifier: string): string | null {
  if (specifier.startsWith('.')) return path.posix.normalize(path.posix.join(path.posix.dirname(fromRel), specifier));
  // The app's own aliases (package.json "imports", SvelteKit's $lib).
  if (fromRel.startsWith('app/') && (specifier.startsWith('#lib/') || specifier.startsWith('$lib/'))) return `app/src/lib/${specifier.slice(5)}`;
  const m = /^@carillon\/([^/]+)(\/.*)?$/.exec(specifier);
  if (!m) return null;
  const name = m[1]!;
  const dir = (SERVICES as readonly string[]).includes(name) ? name : `packages/${name}`;
  return fs.existsSync(path.join(root, dir)) || (SERVICES as readonly string[]).includes(name) ? `${dir}/${m[2] ? m[2].slice(1) : ''}` : null;
}

export function checkDependencies(root: string, exceptions: readonly { file: string; layer: string }[] = KNOWN_EXCEPTIONS): Violation[] {
  const violations: Violation[] = [];
  const used = new Set<number>();
  const roots = [...SERVICES.map((s) => `${s}/src`), ...fs.readdirSync(path.join(root, 'packages')).map((p) => `packages/${p}/src`)];
  for (const dir of roots) {
    for (const abs of sourceFiles(path.join(root, dir))) {
      const rel = path.relative(root, abs).split(path.sep).join('/');
      const from = unitOf(rel)!;
      for (const specifier of importsOf(abs)) {
        const target = resolve(root, rel, specifier);
        if (target === null) continue;
        const to = unitOf(target);
        const fail = (rule: string) => violations.push({ file: rel, specifier, rule });
        if (to && to !== from && (SERVICES as readonly string[]).includes(to)) {
          fail(from.startsWith('packages/') ? 'a package imports no service' : 'no service imports another service (share through @carillon/contracts or packages/core)');
          continue;
        }
        if (from === 'packages/contracts' && to && to !== from) {
          fail('@carillon/contracts imports no other workspace package');
          continue;
        }
        if (from === 'media-server' && to === 'media-server') {
          const layerOf = (p: string) => {
            const parts = p.split('/');
            return parts.length > 3 ? parts[2]! : null;
          };
          const mine = layerOf(rel);
          const theirs = layerOf(target);
          if (!mine || !theirs || mine === theirs) continue;
          const rule = MEDIA_SERVER_LAYERS[mine];
          if (!rule) {
            fail(`media-server/src/${mine}/ is not a known layer: add it to ARCHITECTURE.md and MEDIA_SERVER_LAYERS`);
            continue;
          }
          const allowed = 'may' in rule ? rule.may.includes(theirs) : !rule.mayNot.includes(theirs);
          if (allowed) continue;
          const excused = exceptions.findIndex((e) => e.file === rel && e.layer === theirs);
          if (excused >= 0) {
            used.add(excused);
            continue;
          }
          fail(`media-server layer ${mine}/ may not import ${theirs}/`);
        }
      }
    }
  }
  exceptions.forEach((e, i) => {
    if (!used.has(i)) violations.push({ file: e.file, specifier: `(${e.layer}/)`, rule: 'known exception no longer needed: remove it from KNOWN_EXCEPTIONS' });
  });
  return violations;
}

if (import.meta.main) {
  const root = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, '..'));
  const violations = checkDependencies(root);
  for (const v of violations) console.error(`${v.file}: imports '${v.specifier}': ${v.rule}`);
  if (violations.length) {
    console.error(`check-deps: ${violations.length} import rule violation(s); the rules are in ARCHITECTURE.md`);
    process.exit(1);
  }
  console.log('check-deps: imports follow ARCHITECTURE.md');
}
