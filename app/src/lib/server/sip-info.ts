import type { Config } from '@carillon/config';

/** What a phone needs besides its user name and password to register with the SIP edge. */
export function sipConnectionInfo(config: Config) {
  const proxy = config.SIP_PUBLIC_ADDRESS ?? (config.SIP_HOST === '0.0.0.0' ? new URL(config.publicUrl).hostname : config.SIP_HOST);
  return {
    domain: config.SIP_DOMAIN,
    proxy,
    transports: [`UDP ${proxy}:${config.SIP_UDP_PORT}`, `TCP ${proxy}:${config.SIP_TCP_PORT}`, `WS ${proxy}:${config.SIP_WS_PORT}`],
  };
}
