import { error } from '@sveltejs/kit';
import { json } from '@sveltejs/kit';
import type { UnreleasedArea } from '#lib/unreleased-features.ts';
import { getRuntime } from './runtime.ts';

/** Whether an unreleased feature area is shown on this server (ENABLE_UNRELEASED names it). */
export async function areaEnabled(area: UnreleasedArea): Promise<boolean> {
  return (await getRuntime()).config.ENABLE_UNRELEASED.includes(area);
}

/** For an API route of an unreleased area: the 404 it answers while the area is hidden, else null. */
export async function hiddenArea(area: UnreleasedArea): Promise<Response | null> {
  return (await areaEnabled(area)) ? null : json({ error: 'not_found' }, { status: 404 });
}

/** For a page of an unreleased area: a 404 while the area is hidden. */
export async function requireArea(area: UnreleasedArea): Promise<void> {
  if (!(await areaEnabled(area))) error(404, 'Not found');
}

/** An API handler of an unreleased area: answers 404 while the area is hidden, else runs the handler. */
export function inArea<E>(area: UnreleasedArea, handler: (event: E) => Response | Promise<Response>): (event: E) => Promise<Response> {
  return async (event) => (await hiddenArea(area)) ?? handler(event);
}
