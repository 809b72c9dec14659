import path from 'node:path';
import { z } from 'zod';

/**
 * The one typed view of the environment. Every process (app, media-server,
 * workers, scripts) reads its settings here so that a bad value is caught at
 * start-up, with the variable named, instead of deep inside a request.
 */
const port = z.coerce.number().int().min(1).max(65535);
/** A port to listen on; 0 lets the system choose (tests, several instances on one host). */
const listenPort = z.coerce.number().int().min(0).max(65535);
const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .trim()
    .transform((v) => (v === '' ? undefined : v))
    .optional()
    .refine((v) => v === undefined || protocols.some((p) => v.startsWith(p)), {
      message: `must start with ${protocols.join(' or ')}`,
    });

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: optionalUrl(['postgres://', 'postgresql://']),
  REDIS_URL: optionalUrl(['redis://', 'rediss://']),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(3000),
  PUBLIC_URL: z.url().optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  SMTP_URL: optionalUrl(['smtp://', 'smtps://']),
  MAIL_FROM: z.string().min(3).default('Carillon <no-reply@carillon.localhost>'),
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(50).default(5),
  LOGIN_LOCKOUT_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(15),
  LOGIN_IP_MAX_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(30),
  API_TOKEN_MAX_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(600),
  ACTIVATION_TTL_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(48),
  /** BullMQ key prefix shared by the app and the workers; separate product instances on one Redis use different ones. */
  QUEUE_PREFIX: z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'may only contain letters, digits, "_", "." and "-"').default('carillon'),
  /** Names this media-server node in the registrar and heartbeats; defaults to the host name. */
  MEDIA_SERVER_NODE_ID: z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'may only contain letters, digits, "_", "." and "-"').optional(),
  /** SIP domain of the service, also the digest realm of every device credential. */
  SIP_DOMAIN: z.string().trim().regex(/^[A-Za-z0-9.-]+$/, 'must be a host name').default('carillon.localhost'),
  /** Address the SIP listeners bind to. */
  SIP_HOST: z.string().min(1).default('127.0.0.1'),
  /** Address written in Via, Contact and SDP; defaults to SIP_HOST (or this host's first address when SIP_HOST is 0.0.0.0). */
  SIP_PUBLIC_ADDRESS: z.string().min(1).optional(),
  SIP_UDP_PORT: listenPort.default(5060),
  SIP_TCP_PORT: listenPort.default(5060),
  SIP_WS_PORT: listenPort.default(5066),
  SIP_TLS_PORT: listenPort.default(5061),
  SIP_WSS_PORT: listenPort.default(5067),
  /** PEM files; TLS and WSS listen only when both are set. */
  SIP_TLS_CERT: z.string().min(1).optional(),
  SIP_TLS_KEY: z.string().min(1).optional(),
  /** Digest nonces older than this are answered with stale=true (RFC 7616 §3.3). */
  SIP_NONCE_TTL_SECONDS: z.coerce.number().int().min(10).max(3600).default(300),
  /** Failed SIP authentications allowed per source address per minute before requests are refused. */
  /**
   * Digest challenges offered, in order (RFC 8760 §2.4: a client answers the first it supports).
   * MD5 alone by default: SIPp takes the first challenge whatever its algorithm, and libre-based
   * phones (baresip 1.x) fail outright when any challenge names an algorithm they lack. Set
   * "SHA-256,MD5" where every phone supports RFC 8760.
   */
  SIP_DIGEST_ALGORITHMS: z
    .string()
    .default('MD5')
    .transform((v) => v.split(',').map((a) => a.trim().toUpperCase()))
    .refine((list) => list.length > 0 && list.every((a) => a === 'MD5' || a === 'SHA-256'), 'a comma-separated list of MD5 and SHA-256')
    .transform((list) => list as ('MD5' | 'SHA-256')[]),
  SIP_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(30),
  /**
   * Challenges (401/407) sent a second to one source address for requests without credentials,
   * bursts of twice as many; past it they are dropped unanswered. Per method, so an office behind
   * one NAT address can re-register all its phones while it calls.
   */
  SIP_CHALLENGES_PER_SOURCE_PER_SECOND: z.coerce.number().int().min(1).max(100_000).default(200),
  /**
   * Threads that take REGISTERs off the SIP edge's main thread: each binds the UDP port too
   * (SO_REUSEPORT, so the kernel spreads phones by address) and passes every other message to the
   * main thread. "auto": one per core beyond the first, at most 4; 0 turns them off.
   */
  SIP_REGISTRAR_THREADS: z
    .union([z.literal('auto'), z.coerce.number().int().min(0).max(16)])
    .default('auto'),
  SIP_REGISTER_MIN_EXPIRES: z.coerce.number().int().min(1).max(3600).default(60),
  SIP_REGISTER_MAX_EXPIRES: z.coerce.number().int().min(60).max(86_400).default(3600),
  /** How long a call waits on a park location before it rings back the one who parked it (issue 15, PK-01). */
  PARK_RECALL_SECONDS: z.coerce.number().int().min(10).max(3600).default(60),
  RTP_PORT_MIN: port.default(20000),
  RTP_PORT_MAX: port.default(20999),
  /**
   * RTP inactivity timeout: a call whose phones have all sent no RTP or RTCP this long (they vanished
   * without a BYE) is ended, BYE to both sides. 0 turns it off.
   */
  MEDIA_TIMEOUT_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  /** The same while a phone holds the call (sendonly or inactive in its SDP), when it may send nothing at all. */
  MEDIA_HOLD_TIMEOUT_SECONDS: z.coerce.number().int().min(0).max(604_800).default(3600),
  /**
   * Packet I/O of the media plane (issue 12): the N-API addon of media-server/native (recvmmsg/sendmmsg
   * batches, built by scripts/build-native.sh) or Node's dgram. "auto" uses the addon when it loads;
   * "on" refuses to start without it; "off" keeps dgram. "auto" by default: setup builds the addon, and a
   * machine where it was not built (or does not load) runs on dgram, as before it existed.
   */
  MEDIA_NATIVE: z.enum(['off', 'auto', 'on']).default('auto'),
  /** 32 bytes, base64: seals secrets stored in the database (trunk passwords). Defaults to DATA_DIR/secret.key, created on first use. */
  SECRET_KEY: z
    .string()
    .trim()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes in base64 (openssl rand -base64 32)')
    .optional(),
  /** ffmpeg used to decode uploaded audio and to convert exported recordings to MP3; defaults to the static build of the @ffmpeg-installer/ffmpeg npm package. */
  FFMPEG_PATH: z.string().trim().min(1).optional(),
  /** Directory of the pocketsphinx US English model (Debian pocketsphinx-en-us). */
  POCKETSPHINX_MODEL_DIR: z.string().trim().min(1).default('/usr/share/pocketsphinx/model/en-us'),
  /** A whisper.cpp ggml model: when set, transcription uses whisper.cpp instead of pocketsphinx. */
  WHISPER_MODEL_PATH: z.string().trim().min(1).optional(),
  /** The whisper.cpp command-line program (whisper-cli), used with WHISPER_MODEL_PATH. */
  WHISPER_CPP_PATH: z.string().trim().min(1).default('whisper-cli'),
  /** Largest audio file accepted for transcription, in MB. */
  TRANSCRIPTION_MAX_UPLOAD_MB: z.coerce.number().int().min(1).max(500).default(25),
  /**
   * How long a worker's hold on a job lasts without renewal. A worker that dies (kill -9, power loss)
   * has its jobs re-queued by another worker within about twice this.
   */
  WORKER_LOCK_MS: z.coerce.number().int().min(1000).max(10 * 60_000).default(30_000),
  /**
   * How long a stopping worker waits for its jobs in flight. The default stays under Docker's 10 s stop
   * grace period so the process exits on its own terms rather than by SIGKILL; jobs still running then are
   * re-queued by BullMQ's stalled-job check once their lock expires.
   */
  WORKER_SHUTDOWN_MS: z.coerce.number().int().min(100).max(10 * 60_000).default(8000),
  /** How long a finished recording export can be downloaded before it is deleted. */
  RECORDING_EXPORT_TTL_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(24),
  /** Paper size faxes are rendered on (the page is always 1728 pixels wide, ITU-T T.4). */
  FAX_PAPER_SIZE: z.enum(['letter', 'a4']).default('letter'),
  /** Largest total size of a fax's attachments, in MB. */
  FAX_MAX_UPLOAD_MB: z.coerce.number().int().min(1).max(200).default(20),
  /** Most pages a fax may have, its cover page included: checked at upload (PDF pages) and when it is rendered. */
  FAX_MAX_PAGES: z.coerce.number().int().min(1).max(10_000).default(200),
  /** E-mail to fax: mail to <fax number>@this domain is faxed. */
  FAX_EMAIL_DOMAIN: z.string().trim().toLowerCase().min(1).default('fax.carillon.localhost'),
  /** Port of the workers' SMTP listener for e-mail to fax; 0 (the default) leaves it off. */
  FAX_SMTP_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** Address that listener binds to. */
  FAX_SMTP_HOST: z.string().trim().min(1).default('127.0.0.1'),
  DEMO_ACCOUNT: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  /**
   * Unfinished feature areas to show anyway (comma-separated names of the app's UNRELEASED_AREAS,
   * e.g. `answering_rules`): for the tests and the developers of those features, never production.
   */
  ENABLE_UNRELEASED: z
    .string()
    .trim()
    .default('')
    .transform((v) => v.split(',').map((a) => a.trim()).filter(Boolean))
    .refine((areas) => areas.every((a) => /^[a-z_]+$/.test(a)), 'a comma-separated list of feature area names'),
});

export type Config = z.output<typeof schema> & { dataDir: string; publicUrl: string };

export class ConfigError extends Error {
  readonly variables: string[];
  constructor(issues: { variable: string; message: string }[]) {
    super(
      'Invalid configuration:\n' + issues.map((i) => `  ${i.variable}: ${i.message}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.variables = issues.map((i) => i.variable);
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? '?'),
        // Never echo the value itself: it may be a secret (a URL with a password).
        message: issue.message,
      })),
    );
  }
  const c = parsed.data;
  const rangeIssues: { variable: string; message: string }[] = [];
  if (c.RTP_PORT_MAX - c.RTP_PORT_MIN < 3) rangeIssues.push({ variable: 'RTP_PORT_MAX', message: 'must be at least RTP_PORT_MIN + 3' });
  if (c.SIP_REGISTER_MAX_EXPIRES < c.SIP_REGISTER_MIN_EXPIRES) rangeIssues.push({ variable: 'SIP_REGISTER_MAX_EXPIRES', message: 'must not be below SIP_REGISTER_MIN_EXPIRES' });
  if (Boolean(c.SIP_TLS_CERT) !== Boolean(c.SIP_TLS_KEY)) rangeIssues.push({ variable: c.SIP_TLS_CERT ? 'SIP_TLS_KEY' : 'SIP_TLS_CERT', message: 'SIP_TLS_CERT and SIP_TLS_KEY go together' });
  if (rangeIssues.length) throw new ConfigError(rangeIssues);
  return {
    ...c,
    dataDir: path.resolve(c.DATA_DIR),
    publicUrl: (c.PUBLIC_URL ?? `http://${c.HOST === '0.0.0.0' ? 'localhost' : c.HOST}:${c.PORT}`).replace(
      /\/$/,
      '',
    ),
  };
}

/** For process entry points: a bad value stops the process with the variable named. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`carillon: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
