import path from 'node:path';

/** Where an export's finished ZIP lives; the app reads the path from the database row. */
export function exportZipPath(dataDir: string, accountId: string, exportId: string): string {
  return path.join(dataDir, 'exports', accountId, `${exportId}.zip`);
}

/** The ZIP being written: renamed to the final path only once whole. */
export const partialZipPath = (zipPath: string) => `${zipPath}.part`;
/** Scratch files of a run (the current MP3, the CSV so far). */
export const workDirPath = (zipPath: string) => `${zipPath}.work`;
