import { json } from '@sveltejs/kit';
import { openApiDocument } from '#lib/server/openapi/document.ts';
import type { RequestHandler } from './$types';

/** The OpenAPI 3.1 description of this API, generated from the schemas the routes validate with. */
export const GET: RequestHandler = (event) => json(openApiDocument(event.url.origin, '0.1.0'));
