import { getRuntime } from '#lib/server/runtime.ts';
import { caller, readQuery } from '#lib/server/api.ts';
import { exportedUsers, usersCsv, usersExportQuery, usersXlsx } from '#lib/server/users/export.ts';
import type { RequestHandler } from './$types';

/** GET /api/users/export?format=csv|xlsx&q=&status=&role=&department=&site=&sort=&order= : every user of that search. */
export const GET: RequestHandler = async (event) => {
  const q = readQuery(event.url, usersExportQuery);
  if (!q.ok) return q.response;
  const rows = await exportedUsers((await getRuntime()).db, caller(event), q.data);
  const day = new Date().toISOString().slice(0, 10);
  if (q.data.format === 'xlsx') {
    return new Response(new Uint8Array(await usersXlsx(rows)), {
      headers: {
        'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        'content-disposition': `attachment; filename="users-${day}.xlsx"`,
        'cache-control': 'no-store',
      },
    });
  }
  return new Response(usersCsv(rows), {
    headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="users-${day}.csv"`, 'cache-control': 'no-store' },
  });
};
