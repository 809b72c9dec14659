import { z } from 'zod';
import { requirementFor, SESSION_ONLY_ROUTES, type Requirement } from '#lib/access-policy.ts';
import { OPERATIONS, type Operation } from './operations.ts';

type Json = Record<string, unknown>;

/** The JSON Schema (2020-12, the dialect of OpenAPI 3.1) of what a client sends for this zod schema. */
export function requestSchema(schema: z.ZodType): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Json;
  return rest;
}

function responseSchema(schema: z.ZodType): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'output', unrepresentable: 'any' }) as Json;
  return rest;
}

/** `/api/users/[id]` → `/api/users/{id}` */
export const openApiPath = (route: string) => route.replace(/\[(\w+)\]/g, '{$1}');

const describeRequirement = (req: Requirement | undefined): string =>
  req === undefined
    ? 'not allowed'
    : typeof req === 'string'
      ? req
      : 'permission' in req
        ? `permission ${req.permission}`
        : `any of the permissions ${req.anyOf.join(', ')}`;

const error = { type: 'object', properties: { error: { type: 'string' }, fields: { type: 'object', additionalProperties: { type: 'string' } } }, required: ['error'] };

function operationObject(op: Operation): Json {
  const req = requirementFor(op.route, op.method);
  const isPublic = req === 'public';
  const params: Json[] = [...op.route.matchAll(/\[(\w+)\]/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: m[1] === 'id' ? { type: 'string', format: 'uuid' } : { type: 'string' },
  }));
  if (op.query) {
    const q = requestSchema(op.query) as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(q.properties ?? {})) {
      params.push({ name, in: 'query', required: q.required?.includes(name) ?? false, schema });
    }
  }
  const status = String(op.status ?? 200);
  const success: Json =
    status === '204'
      ? { description: 'Done' }
      : op.produces
        ? { description: 'OK', content: Object.fromEntries(op.produces.map((type) => [type, { schema: { type: 'string', format: 'binary' } }])) }
        : { description: 'OK', content: { 'application/json': { schema: op.response ? responseSchema(op.response) : {} } } };
  const errors: Json = {};
  if (op.body || op.query || op.multipart || op.accepts) errors['400'] = { description: 'Invalid input; `fields` names each bad field', content: { 'application/json': { schema: error } } };
  if (!isPublic) {
    errors['401'] = { description: 'No valid session or API token' };
    errors['403'] = { description: 'Missing permission' };
  }
  if (params.some((p) => p.in === 'path')) errors['404'] = { description: 'Not found in this account' };

  const out: Json = {
    operationId: `${op.method.toLowerCase()}${op.route.replace(/^\/api/, '').replace(/[^A-Za-z0-9]+(\w)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: op.summary,
    tags: [op.route.split('/')[2]],
    'x-required-permission': describeRequirement(req),
    ...(isPublic ? { security: [] } : SESSION_ONLY_ROUTES.has(op.route) ? { security: [{ session: [] }], 'x-session-only': true } : {}),
    ...(params.length ? { parameters: params } : {}),
    responses: { [status]: success, ...errors },
  };
  // An operation may take JSON or multipart (a prompt: text to speak, or a file): both are described.
  if (op.body || op.multipart || op.accepts) {
    out.requestBody = {
      required: true,
      content: {
        ...(op.body ? { 'application/json': { schema: requestSchema(op.body) } } : {}),
        ...(op.multipart ? { 'multipart/form-data': { schema: requestSchema(op.multipart) } } : {}),
        ...Object.fromEntries((op.accepts ?? []).map((type) => [type, { schema: { type: 'string', format: 'binary' } }])),
      },
    };
  }
  return out;
}

/** The OpenAPI 3.1 document of the REST API, generated from OPERATIONS and the access policy. */
export function openApiDocument(serverUrl: string, version: string): Json {
  const paths: Record<string, Json> = {};
  for (const op of OPERATIONS) {
    const path = (paths[openApiPath(op.route)] ??= {});
    path[op.method.toLowerCase()] = operationObject(op);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Carillon REST API',
      version,
      description:
        'Every screen of Carillon is built on this API. Integrations authenticate with an API token (More > API tokens) sent as `Authorization: Bearer <token>`; ' +
        'a token acts for its account with its role, never more than its creator holds. Ids of another account answer 404.',
    },
    servers: [{ url: serverUrl }],
    security: [{ bearer: [] }, { session: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API token (starts with crl_)' },
        session: { type: 'apiKey', in: 'cookie', name: 'carillon_session', description: 'The browser session of a signed-in user' },
      },
    },
    paths,
  };
}
