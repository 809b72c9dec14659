/**
 * The workers service: consumes every BullMQ queue until SIGTERM/SIGINT.
 * Exit codes: 0 after a clean shutdown, 78 (EX_CONFIG) for bad configuration,
 * 1 when jobs had to be abandoned or startup failed.
 */
import { ConfigError, createLogger, loadConfigOrExit } from '@carillon/config';
import {
  readWorkerSettings,
  startWorkers,
  type WorkerSettings,
} from './worker-runtime.ts';

const config = loadConfigOrExit();
const settings = readSettingsOrExit();
const log = createLogger('workers', config.LOG_LEVEL);

const runtime = startWorkers(settings, log, config);
let stopping = false;

async function stop(signal: NodeJS.Signals): Promise<void> {
  if (stopping) {
    // A second signal means the operator doesn't want to wait.
    log.warn('second signal: exiting without waiting for jobs', { signal });
    process.exit(1);
  }
  stopping = true;
  log.info('shutting down: finishing jobs in flight', { signal, timeoutMs: config.WORKER_SHUTDOWN_MS });
  const outcome = await runtime.shutdown(config.WORKER_SHUTDOWN_MS);
  if (outcome === 'drained') {
    log.info('stopped cleanly');
    process.exit(0);
  }
  log.warn('shutdown timed out: unfinished jobs will be re-run once their lock expires');
  process.exit(1);
}
process.on('SIGTERM', (signal) => void stop(signal));
process.on('SIGINT', (signal) => void stop(signal));

runtime.ready.then(
  () => {
    if (!stopping) {
      log.info('workers started', {
        workerId: runtime.workerId,
        prefix: settings.prefix,
        concurrency: settings.concurrency,
      });
    }
  },
  (err: unknown) => {
    if (stopping) return;
    log.error('workers failed to start', { error: err });
    process.exit(1);
  },
);

function readSettingsOrExit(): WorkerSettings {
  try {
    return readWorkerSettings(config, process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // Same wording and exit code as loadConfigOrExit, so operators see one style.
    process.stderr.write(`carillon: ${err.message}\n`);
    process.exit(78);
  }
}
