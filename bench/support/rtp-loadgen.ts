/**
 * The C load generator (support/rtp-loadgen.c) of the media benchmarks, built
 * with gcc into a temporary directory and run in its own process, so that
 * generating load costs the measured process nothing. It speaks by lines on
 * stdin and stdout.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface RtpLoadgen {
  child: ChildProcess;
  /** A temporary directory of the run's own (packet files), removed when the benchmark exits. */
  work: string;
  /** The generator's next line of output; throws once it has exited. */
  nextLine(): Promise<string>;
}

/** Builds and starts the generator, or exits the benchmark with the reason (gcc missing). */
export function startRtpLoadgen(name: string): RtpLoadgen {
  const work = mkdtempSync(path.join(tmpdir(), `carillon-${name}-bench-`));
  const binary = path.join(work, 'rtp-loadgen');
  // Also when a run throws: no temporary files left behind.
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  try {
    execFileSync('gcc', ['-O2', '-Wall', '-o', binary, path.join(import.meta.dirname, 'rtp-loadgen.c')], { stdio: 'inherit' });
  } catch (err) {
    console.error(`cannot build the load generator with gcc (Debian: apt-get install gcc): ${String(err)}`);
    process.exit(1);
  }
  const child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    child,
    work,
    async nextLine() {
      const { value, done } = await lines.next();
      if (done) throw new Error('the load generator exited');
      return value as string;
    },
  };
}
