import { spawn } from 'node:child_process';

export interface ProgramResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The program could not be started at all (missing from PATH, not executable); `cause` is the system error. */
export class ProgramNotStartedError extends Error {
  constructor(command: string, cause: Error) {
    super(`could not run ${command}: ${cause.message}`, { cause });
    this.name = 'ProgramNotStartedError';
  }
}

/**
 * Runs a converter or recogniser (ffmpeg, pocketsphinx, ghostscript…) to its
 * end, killed after `timeoutMs`. Output is bounded: a tool that loops on an
 * error must not fill the worker's memory.
 */
export function runProgram(command: string, args: string[], timeoutMs: number, onStdout?: (chunk: string) => void): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      const s = d.toString();
      if (stdout.length < 16_000_000) stdout += s;
      onStdout?.(s);
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 64_000) stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new ProgramNotStartedError(command, err));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') stderr = `timed out after ${timeoutMs} ms\n${stderr}`;
      resolve({ code, signal, stdout, stderr });
    });
  });
}
