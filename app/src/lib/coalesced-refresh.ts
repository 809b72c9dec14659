/**
 * Wraps a reload so that a burst of live events (a bulk text's receipts, a
 * run of voicemail changes) runs it once at a time, plus once more for what
 * arrived during a run, never once per event.
 */
export function coalescedRefresh(reload: () => Promise<void>): () => Promise<void> {
  let running = false;
  let again = false;
  return async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await reload();
      } while (again);
    } finally {
      running = false;
    }
  };
}
