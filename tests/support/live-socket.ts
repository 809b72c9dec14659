import { io as connectSocket, type Socket } from 'socket.io-client';
import type { HttpClient } from './http-client.ts';

/**
 * A socket.io connection signed in as the client (its session cookie), and
 * every `event` it hears. `next` waits for an event that matches, without
 * sleeping: it arrives, or the test times out. The caller closes `socket`.
 */
export async function liveSocket<T>(url: string, client: HttpClient, event: string): Promise<{ socket: Socket; heard: T[]; next: (match: (e: T) => boolean) => Promise<T> }> {
  const socket = connectSocket(url, {
    path: '/socket.io',
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: { cookie: `carillon_session=${client.cookie('carillon_session')}` },
  });
  const heard: T[] = [];
  socket.on(event, (e: T) => heard.push(e));
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
  } catch (err) {
    socket.close();
    throw err;
  }
  const next = async (match: (e: T) => boolean) => {
    for (;;) {
      const found = heard.find(match);
      if (found) return found;
      await new Promise<void>((resolve) => socket.once(event, () => resolve()));
    }
  };
  return { socket, heard, next };
}
