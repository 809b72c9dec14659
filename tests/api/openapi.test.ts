import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSchema, unregisterSchema, validate } from '@hyperjump/json-schema/openapi-3-1';
import type { z } from 'zod';
import { openApiDocument, openApiPath } from '../../app/src/lib/server/openapi/document.ts';
import { OPERATIONS } from '../../app/src/lib/server/openapi/operations.ts';
import { startProduct, type RunningProduct } from '../support/product.ts';
import { activate, HttpClient } from '../support/http-client.ts';

/**
 * The OpenAPI document (issue 5, deliverable 12): valid OpenAPI 3.1, one
 * operation for every route file under app/src/routes/api, and request schemas
 * that are the very zod objects the routes validate with.
 */
const appSrc = path.resolve(import.meta.dirname, '../../app/src');
const apiDir = path.join(appSrc, 'routes/api');

interface RouteFile {
  id: string;
  file: string;
  methods: string[];
  source: string;
}

function apiRouteFiles(): RouteFile[] {
  const found: RouteFile[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name === '+server.ts') {
        const source = fs.readFileSync(full, 'utf8');
        const methods = [...source.matchAll(/export const (GET|POST|PATCH|PUT|DELETE)\b/g)].map((m) => m[1]!);
        found.push({ id: '/' + path.relative(path.join(appSrc, 'routes'), dir).split(path.sep).join('/'), file: full, methods, source });
      }
    }
  };
  walk(apiDir);
  return found;
}

type Doc = { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> }; parameters?: { name: string; in: string }[] }>> };
const doc = openApiDocument('http://localhost', '0.1.0') as unknown as Doc;
const bodySchemaOf = (route: string, method: string) => doc.paths[openApiPath(route)]?.[method.toLowerCase()]?.requestBody?.content['application/json']?.schema;

let n = 0;
/** Validates a value against a JSON Schema taken from the document, as an OpenAPI 3.1 schema object. */
async function validAgainstDocument(schema: unknown, value: unknown): Promise<boolean> {
  const uri = `https://carillon.test/schema/${n++}`;
  registerSchema({ $schema: 'https://spec.openapis.org/oas/3.1/dialect/base', ...(schema as object) }, uri);
  try {
    return (await validate(uri, value as never)).valid;
  } finally {
    unregisterSchema(uri);
  }
}

/** The module a route imports a name from, resolved to a file. */
function importedFrom(route: RouteFile, name: string): string | null {
  for (const m of route.source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'([^']+)'/g)) {
    const names = m[1]!.split(',').map((s) => s.trim().replace(/^type\s+/, ''));
    if (!names.includes(name)) continue;
    const spec = m[2]!;
    if (spec.startsWith('#lib/')) return path.join(appSrc, 'lib', spec.slice(5));
    if (spec.startsWith('@carillon/')) return spec;
    return path.resolve(path.dirname(route.file), spec);
  }
  return null;
}

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const out = await validate('https://spec.openapis.org/oas/3.1/schema-base', doc as never);
    expect(out.valid, JSON.stringify(out)).toBe(true);
    // The validator is not lenient: a broken document fails.
    const broken = structuredClone(doc) as unknown as Record<string, unknown>;
    (broken.paths as Record<string, unknown>)['/api/users'] = { get: { responses: 'none' } };
    expect((await validate('https://spec.openapis.org/oas/3.1/schema-base', broken as never)).valid).toBe(false);
  });

  it('has one operation for every route file under routes/api, and none that no route serves', () => {
    const routes = apiRouteFiles();
    expect(routes.length).toBeGreaterThan(40);
    const missing: string[] = [];
    const served = new Set<string>();
    for (const r of routes) {
      expect(r.methods.length, r.id).toBeGreaterThan(0);
      for (const method of r.methods) {
        served.add(`${method} ${r.id}`);
        if (!doc.paths[openApiPath(r.id)]?.[method.toLowerCase()]) missing.push(`${method} ${r.id}`);
      }
    }
    expect(missing, 'add these to app/src/lib/server/openapi/operations.ts').toEqual([]);
    expect(OPERATIONS.map((op) => `${op.method} ${op.route}`).filter((k) => !served.has(k))).toEqual([]);
    // Path parameters are declared, each once.
    for (const [p, ops] of Object.entries(doc.paths)) {
      const names = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const op of Object.values(ops)) expect((op.parameters ?? []).filter((x) => x.in === 'path').map((x) => x.name), p).toEqual(names);
    }
  });

  it('describes each body and query with the very schema object its route parses with', async () => {
    const routes = new Map(apiRouteFiles().map((r) => [r.id, r]));
    let checked = 0;
    for (const op of OPERATIONS) {
      const route = routes.get(op.route)!;
      const handler = route.source.slice(route.source.indexOf(`export const ${op.method}`)).split(/\nexport const /)[0]!;
      const body = /readJson\(event\.request, (\w+)\)/.exec(handler)?.[1];
      const query = /readQuery\(event\.url, (\w+)\)/.exec(handler)?.[1];
      expect(Boolean(body), `${op.method} ${op.route} body`).toBe(Boolean(op.body));
      expect(Boolean(query), `${op.method} ${op.route} query`).toBe(Boolean(op.query));
      for (const [name, documented] of [
        [body, op.body],
        [query, op.query],
      ] as const) {
        if (!name) continue;
        const from = importedFrom(route, name);
        expect(from, `${op.route} must import ${name} from a module, not define it in +server.ts`).not.toBeNull();
        const mod = (await import(from!.startsWith('@') ? from! : pathToFileURL(from!).href)) as Record<string, unknown>;
        expect(mod[name] === documented, `${op.method} ${op.route}: ${name}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(20);
  });

  it('accepts and refuses example bodies exactly as the zod schemas do', async () => {
    const examples: { route: string; method: string; valid: unknown[]; invalid: unknown[] }[] = [
      {
        route: '/api/api-tokens',
        method: 'POST',
        valid: [{ name: 'CRM', roleId: '6f1c1a52-3c3e-4b7e-9a55-0c6d6f0f2b11' }, { name: 'CRM', roleId: '6f1c1a52-3c3e-4b7e-9a55-0c6d6f0f2b11', expiresAt: '2999-01-01T00:00:00Z' }],
        invalid: [{ name: 'CRM' }, { name: 'x'.repeat(61), roleId: '6f1c1a52-3c3e-4b7e-9a55-0c6d6f0f2b11' }, { name: 'CRM', roleId: 'role', colour: 'red' }, { name: 'CRM', roleId: '6f1c1a52-3c3e-4b7e-9a55-0c6d6f0f2b11', extra: 1 }],
      },
      { route: '/api/users/[id]', method: 'PATCH', valid: [{ firstName: 'Ada' }, { language: null }], invalid: [{}, { firstName: '' }, { language: 'de' }, { email: 'a@b.c' }] },
      { route: '/api/me/dnd', method: 'PUT', valid: [{ dnd: 'no_calls' }], invalid: [{ dnd: 'sometimes' }, {}] },
      { route: '/api/calls/[id]/commands', method: 'POST', valid: [{ type: 'hangup' }, { type: 'transfer', side: 'b', target: '+33123456789' }], invalid: [{ type: 'explode' }, { type: 'hangup', force: true }, { type: 'transfer', side: 'b', target: 'sip:x@y' }, {}] },
      { route: '/api/me', method: 'PATCH', valid: [{ language: 'fr' }], invalid: [{ language: 'fr', theme: 'dark' }] },
    ];
    for (const ex of examples) {
      const op = OPERATIONS.find((o) => o.route === ex.route && o.method === ex.method)!;
      const schema = bodySchemaOf(ex.route, ex.method);
      expect(schema, ex.route).toBeDefined();
      for (const [value, expected] of [...ex.valid.map((v) => [v, true] as const), ...ex.invalid.map((v) => [v, false] as const)]) {
        const label = `${ex.method} ${ex.route} ${JSON.stringify(value)}`;
        expect((op.body as z.ZodType).safeParse(value).success, `zod: ${label}`).toBe(expected);
        expect(await validAgainstDocument(schema, value), `document: ${label}`).toBe(expected);
      }
    }
  });
});

describe('GET /api/openapi.json on the running product', () => {
  let product: RunningProduct;
  beforeAll(async () => {
    product = await startProduct();
  }, 120_000);
  afterAll(async () => {
    expect(await product?.stop()).toBe(0);
  });

  it('serves the same document, and the live routes take and refuse the examples as the document says', async () => {
    const res = await fetch(product.url + '/api/openapi.json');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(openApiDocument(product.url, '0.1.0'))));

    const admin = new HttpClient(product.url);
    expect((await activate(admin, product.activationLink)).status).toBe(303);
    const me = (await (await admin.get('/api/me')).json()) as { id: string };
    const schema = bodySchemaOf('/api/users/[id]', 'PATCH');
    for (const [body, valid] of [
      [{ firstName: 'Ada' }, true],
      [{ language: 'de' }, false],
      [{ email: 'a@b.c' }, false],
    ] as const) {
      expect(await validAgainstDocument(schema, body)).toBe(valid);
      const answer = await admin.json('PATCH', `/api/users/${me.id}`, body);
      expect(answer.status, JSON.stringify(body)).toBe(valid ? 200 : 400);
    }
    const dnd = bodySchemaOf('/api/me/dnd', 'PUT');
    expect(await validAgainstDocument(dnd, { dnd: 'sometimes' })).toBe(false);
    expect((await admin.json('PUT', '/api/me/dnd', { dnd: 'sometimes' })).status).toBe(400);
  });
});
