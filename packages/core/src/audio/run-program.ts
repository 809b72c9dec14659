import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

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
    const child = spawnDyingWithParent(command, args);
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

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p)) ?? null;

/**
 * Spawns `command` so that it dies with this process, even when this process
 * is killed with SIGKILL and gets no chance to kill it: util-linux's setpriv
 * sets the parent-death signal (prctl PR_SET_PDEATHSIG) and then execs the
 * command in the same process. A command missing from PATH is spawned
 * directly, so the caller still gets the spawn error (ENOENT) rather than
 * setpriv's exit code.
 */
function spawnDyingWithParent(command: string, args: string[]) {
  const resolved = SETPRIV ? whichExecutable(command) : null;
  if (!SETPRIV || !resolved) return spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', resolved, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function whichExecutable(command: string): string | null {
  if (!command.includes('/')) return findOnPath(command);
  return isExecutable(command) ? command : null;
}

/** The first `program` found on PATH, or null; used for optional converters such as LibreOffice. */
export function findOnPath(program: string, envPath = process.env.PATH ?? ''): string | null {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, program);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
