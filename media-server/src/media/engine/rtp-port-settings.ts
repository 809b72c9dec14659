/**
 * The RTP port range from the environment. Read here, typed and checked,
 * until the shared config takes these variables over; a bad value stops with
 * the variable named, like every other setting.
 */
export interface RtpPortRange {
  min: number;
  max: number;
}

export const DEFAULT_RTP_PORT_RANGE: Readonly<RtpPortRange> = { min: 20000, max: 20999 };

export class RtpPortSettingsError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`Invalid configuration:\n  ${variable}: ${message}`);
    this.name = 'RtpPortSettingsError';
    this.variable = variable;
  }
}

export function readRtpPortRange(env: NodeJS.ProcessEnv = process.env): RtpPortRange {
  const min = readPort(env, 'RTP_PORT_MIN', DEFAULT_RTP_PORT_RANGE.min);
  const max = readPort(env, 'RTP_PORT_MAX', DEFAULT_RTP_PORT_RANGE.max);
  if (max < min) throw new RtpPortSettingsError('RTP_PORT_MAX', `must not be below RTP_PORT_MIN (${min})`);
  // One RTP/RTCP pair needs an even port and the odd one above it.
  const firstEven = min + (min % 2);
  if (firstEven + 1 > max) {
    throw new RtpPortSettingsError('RTP_PORT_MAX', `the range ${min}-${max} holds no even/odd port pair`);
  }
  return { min, max };
}

function readPort(env: NodeJS.ProcessEnv, variable: string, fallback: number): number {
  const raw = env[variable]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new RtpPortSettingsError(variable, 'must be a whole number');
  const port = Number(raw);
  // Below 1024 needs privileges, and a media range there would collide with services.
  if (port < 1024 || port > 65535) throw new RtpPortSettingsError(variable, 'must be between 1024 and 65535');
  return port;
}
