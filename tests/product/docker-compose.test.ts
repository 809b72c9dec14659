import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@carillon/config';

/**
 * docker-compose.yml and the Dockerfile, checked without a Docker engine
 * (scripts/docker-smoke.sh runs the stack where one exists): what `docker
 * compose up` needs to place a call and send a fax. The YAML is read by
 * Debian's python3-yaml (merge keys included), the variables interpolated
 * with their defaults as compose does when they are unset.
 */
const root = path.resolve(import.meta.dirname, '../..');
const composeText = fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');

interface Service {
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
}
const compose = JSON.parse(
  execFileSync('python3', ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], { input: composeText, encoding: 'utf8' }),
) as { services: Record<string, Service> };

/** `${NAME:-default}` as compose interpolates it with NAME unset. */
const withDefaults = (value: string) => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
const service = (name: string) => compose.services[name]!;
const env = (name: string) => Object.fromEntries(Object.entries(service(name).environment ?? {}).map(([k, v]) => [k, withDefaults(String(v))]));

describe('docker-compose.yml', () => {
  it('runs media-server on every interface of its container, advertising the address set by SIP_PUBLIC_ADDRESS', () => {
    const media = env('media-server');
    expect(media.SIP_HOST).toBe('0.0.0.0');
    expect(service('media-server').environment!.SIP_PUBLIC_ADDRESS).toMatch(/^\$\{SIP_PUBLIC_ADDRESS:-[^}]+\}$/);
    // The service's own configuration check accepts what compose gives it.
    const config = loadConfig(media);
    expect(config.SIP_PUBLIC_ADDRESS).toBeTruthy();
    expect(config.SIP_HOST).not.toMatch(/^(127\.|localhost$|::1$)/);
  });

  it('publishes exactly the RTP range media-server uses, and its SIP ports', () => {
    const media = env('media-server');
    const config = loadConfig(media);
    const published = (service('media-server').ports ?? []).map(withDefaults);
    const udpRanges = published.filter((p) => /^\d+-\d+:\d+-\d+\/udp$/.test(p));
    expect(udpRanges).toEqual([`${config.RTP_PORT_MIN}-${config.RTP_PORT_MAX}:${config.RTP_PORT_MIN}-${config.RTP_PORT_MAX}/udp`]);
    expect(published).toContain(`${config.SIP_UDP_PORT}:${config.SIP_UDP_PORT}/udp`);
    expect(published).toContain(`${config.SIP_TCP_PORT}:${config.SIP_TCP_PORT}/tcp`);
    expect(published).toContain(`${config.SIP_WS_PORT}:${config.SIP_WS_PORT}/tcp`);
    // The image says the same.
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE .*\\b${config.RTP_PORT_MIN}-${config.RTP_PORT_MAX}/udp`, 'm'));
  });

  it('checks the health of app, media-server and workers with the service’s own probe', () => {
    for (const name of ['app', 'media-server', 'workers']) {
      expect(service(name).healthcheck?.test, name).toEqual(['CMD', 'node', 'scripts/healthcheck.ts', name]);
    }
    expect(fs.existsSync(path.join(root, 'scripts/healthcheck.ts'))).toBe(true);
  });

  it('prints the first admin’s activation link when the app starts on an empty database', () => {
    expect(service('app').command!.join(' ')).toMatch(/node scripts\/migrate\.ts && node scripts\/first-admin\.ts && exec node app\/server\.ts/);
    expect(fs.existsSync(path.join(root, 'scripts/first-admin.ts'))).toBe(true);
  });
});

describe('Dockerfile', () => {
  it('installs every runtime package that setup installs for npm start (Redis runs in its own container)', () => {
    const setup = fs.readFileSync(path.join(root, 'scripts/setup.sh'), 'utf8');
    const runtime = /^runtime_pkgs=\(([^)]*)\)/m.exec(setup)![1]!.split(/\s+/).filter((p) => p && p !== 'redis-server');
    expect(runtime).toEqual(expect.arrayContaining(['ghostscript', 'libtiff-tools', 'poppler-utils', 'python3-pil']));
    // The media plane's addon is compiled in the image's build stage (with the `node` package's headers, OpenSSL's
    // included): its compiler and headers are not needed where the services run.
    const addonBuild = ['gcc', 'libc6-dev', 'libssl-dev'];
    const buildStage = dockerfile.slice(dockerfile.indexOf('AS build'), dockerfile.indexOf('AS runtime'));
    expect(buildStage).toMatch(/apt-get install -y --no-install-recommends gcc libc6-dev/);
    expect(buildStage).toContain('bash scripts/build-native.sh');
    const runtimeStage = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    const installed = /apt-get install -y --no-install-recommends ([^\n&\\]*)/.exec(runtimeStage)![1]!.trim().split(/\s+/);
    expect(installed).toEqual(expect.arrayContaining(runtime.filter((p) => !addonBuild.includes(p))));
  });
});
