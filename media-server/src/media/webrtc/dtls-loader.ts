/**
 * werift's DTLS is loaded on first use (or just after a worker is ready), so
 * that starting a media worker does not wait for the whole WebRTC stack.
 */
let loading: Promise<typeof import('./dtls-session.ts')> | null = null;

export const loadDtls = (): Promise<typeof import('./dtls-session.ts')> => (loading ??= import('./dtls-session.ts'));
