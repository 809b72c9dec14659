import fs from 'node:fs';
import path from 'node:path';
import { ProgramNotStartedError, runProgram, type ProgramResult } from '../tools/run-program.ts';

/** A render step that takes longer than this is treated as a broken input rather than left to hang the worker. */
const TOOL_TIMEOUT_MS = 2 * 60_000;

/**
 * An attachment the tools could not turn into fax pages. Its message is shown
 * to the user as the attachment's reason, so it names the problem, not the
 * file system.
 */
export class FaxAttachmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaxAttachmentError';
  }
}

/** A required program (ghostscript, libtiff-tools, poppler-utils) is missing: the whole job fails, not one attachment. */
export class FaxToolMissingError extends Error {
  constructor(program: string, cause: Error) {
    super(`cannot run ${program}: ${cause.message} (install the Debian packages listed in scripts/setup.sh)`, { cause });
    this.name = 'FaxToolMissingError';
  }
}

export interface ToolResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs one program to completion. A non-zero exit rejects with a
 * FaxAttachmentError carrying the tool's last words (paths replaced by
 * `hide`), since a failing converter almost always means a bad input.
 */
export async function runTool(program: string, args: string[], hide: string[] = []): Promise<ToolResult> {
  let result: ProgramResult;
  try {
    result = await runProgram(program, args, TOOL_TIMEOUT_MS);
  } catch (err) {
    if (err instanceof ProgramNotStartedError) throw new FaxToolMissingError(program, err.cause as Error);
    throw err;
  }
  const { code, signal, stdout, stderr } = result;
  if (code === 0) return { stdout, stderr };
  const why = signal ? `stopped by ${signal}` : `exit code ${code}`;
  let detail = `${stderr}\n${stdout}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l, i, all) => l !== '' && all.indexOf(l) === i)
    .slice(0, 2)
    .join(' ');
  for (const p of hide) detail = detail.replaceAll(p, path.basename(p));
  throw new FaxAttachmentError(`${path.basename(program)} failed (${why})${detail ? `: ${detail.slice(0, 300)}` : ''}`);
}

export { findOnPath } from '../tools/run-program.ts';

/**
 * Debian's python3, which has python3-pil; a pyenv or venv python found
 * first on PATH usually has not.
 */
export function systemPython(): string {
  return fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}
