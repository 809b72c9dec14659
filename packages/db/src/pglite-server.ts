import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { PGlite } from '@electric-sql/pglite';

/**
 * PGlite lives in one process. The app, media-server and workers are separate
 * processes, so the process that owns PGlite serves it over the PostgreSQL wire
 * protocol on loopback and the others connect with an ordinary DATABASE_URL.
 */
export async function servePglite(pglite: PGlite, port = 0): Promise<{ url: string; stop: () => Promise<void> }> {
  const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port, maxConnections: 64 });
  await server.start();
  // getServerConn() gives "host:port" once listening, with the port the OS chose.
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres?sslmode=disable`,
    stop: () => server.stop(),
  };
}
