import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** SIPp (Debian package sip-tester): the SIP peer we did not write. */
export const SCENARIOS = path.resolve(import.meta.dirname, '../sipp');

/** A port free for both UDP and TCP on loopback. */
export async function freeSipPort(host = '127.0.0.1'): Promise<number> {
  for (;;) {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const udp = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, host, () => resolve(true));
    });
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (ok) return port;
  }
}

/**
 * A base port for SIPp's media (`-mp`): SIPp binds audio RTP and RTCP on it and the next port, and
 * video on the two after. Taken below the kernel's ephemeral range (32768 and up) and below the RTP
 * ranges our own servers use (20000 and up), so that no other test's socket can take p + 2 meanwhile.
 */
export async function freeMediaPort(host = '127.0.0.1'): Promise<number> {
  for (;;) {
    const base = 10_000 + 4 * Math.floor(Math.random() * 2_400);
    const sockets: dgram.Socket[] = [];
    let ok = true;
    for (let p = base; p < base + 4 && ok; p++) {
      const udp = dgram.createSocket('udp4');
      sockets.push(udp);
      ok = await new Promise<boolean>((resolve) => {
        udp.once('error', () => resolve(false));
        udp.bind(p, host, () => resolve(true));
      });
    }
    await Promise.all(sockets.map((u) => new Promise<void>((resolve) => u.close(() => resolve()))));
    if (ok) return base;
  }
}

/** Exit code, console output, error log, and what the scenario's <log> actions wrote. */
export interface SippResult {
  code: number | null;
  output: string;
  errors: string;
  logs: string;
}

export interface SippRun {
  /** Resolves with SIPp's exit code (0: every call passed). */
  done: Promise<SippResult>;
  child: ChildProcess;
  stop(): void;
  /** What the scenario's <log> actions wrote so far, while it runs. */
  logsSoFar(): string;
  /** Resolves once SIPp's SIP socket is bound (UDP), so a peer calling it right away is not refused. */
  ready: Promise<void>;
  /** Its SIP address (-i, -p). */
  localIp: string;
  localPort: number;
}

/** Whether a UDP socket is bound to `port` (on any address), from the kernel's table. */
function udpPortBound(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    const table = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (table.split('\n').some((line) => line.trim().split(/\s+/)[1]?.endsWith(`:${hex}`))) return true;
  }
  return false;
}

export interface SippOptions {
  scenario: string;
  target: string;
  localPort: number;
  localIp?: string;
  service?: string;
  auth?: { username: string; password: string };
  calls?: number;
  rate?: number;
  limit?: number;
  timeoutSeconds?: number;
  /** u1: one UDP socket; un: one per call (a phone each, as the kernel sees them); t1: TCP. */
  transport?: 'u1' | 'un' | 't1';
  /** Scenario variables: -set name value. */
  vars?: Record<string, string>;
  extra?: string[];
}

export function startSipp(o: SippOptions): SippRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-sipp-'));
  const errorFile = path.join(dir, 'errors.log');
  const args = [
    o.target,
    '-sf',
    path.isAbsolute(o.scenario) ? o.scenario : path.join(SCENARIOS, o.scenario),
    '-t',
    o.transport ?? 'u1',
    '-m',
    String(o.calls ?? 1),
    '-l',
    String(o.limit ?? 1),
    '-r',
    String(o.rate ?? 10),
    '-timeout',
    `${o.timeoutSeconds ?? 20}s`,
    '-timeout_error',
    '-trace_err',
    '-error_file',
    errorFile,
    '-i',
    o.localIp ?? '127.0.0.1',
    '-mi',
    o.localIp ?? '127.0.0.1',
    '-p',
    String(o.localPort),
    '-cp',
    '0',
    '-nostdin',
    '-max_recv_loops',
    '1000',
  ];
  // A socket per call: SIPp's default cap of 50,000 is above this machine's open-file limit, which it refuses.
  if (o.transport === 'un') args.push('-max_socket', '1000');
  if (o.service) args.push('-s', o.service);
  // <log> actions of a scenario write to a file the result returns.
  args.push('-trace_logs');
  if (o.auth) args.push('-au', o.auth.username, '-ap', o.auth.password);
  for (const [k, v] of Object.entries(o.vars ?? {})) args.push('-set', k, v);
  args.push(...(o.extra ?? []));
  const child = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const done = new Promise<SippResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const errors = fs.existsSync(errorFile) ? fs.readFileSync(errorFile, 'utf8') : '';
      const logs = fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('_logs.log'))
        .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
        .join('');
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ code, output, errors, logs });
    });
  });
  const logsSoFar = () =>
    fs.existsSync(dir)
      ? fs
          .readdirSync(dir)
          .filter((f) => f.endsWith('_logs.log'))
          .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
          .join('')
      : '';
  const ready = (async () => {
    if ((o.transport ?? 'u1') !== 'u1') return;
    const until = Date.now() + 10_000;
    let exited = false;
    void done.then(() => (exited = true));
    while (!exited && !udpPortBound(o.localPort) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  })();
  return { done, child, stop: () => child.kill('SIGKILL'), logsSoFar, ready, localIp: o.localIp ?? '127.0.0.1', localPort: o.localPort };
}

/**
 * Tells a SIPp phone running uac-talk-until-told.xml or uas-answer-talk-until-told.xml to hang up now (it
 * then sends its BYE and waits for the 200): the test ends a call when its checks are done rather than after a talk time long enough for
 * a loaded machine. The word is a request of its own method (HANGUP-NOW) to the phone's SIP port,
 * naming the call's Call-ID (from the scenario's log): SIPp hands a message to the call of its Call-ID.
 * Sent once, over loopback; the scenario logs its Call-ID only once it waits for the word.
 */
export async function tellToHangUp(run: SippRun, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let callId: string | undefined;
  while (!(callId = /call-id (\S+)/.exec(run.logsSoFar())?.[1])) {
    if (Date.now() > deadline) throw new Error('the SIPp phone never logged its Call-ID (is its scenario one of the *-until-told.xml, and was the call answered?)');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, run.localIp, resolve));
  const { port } = socket.address();
  const word = [
    `HANGUP-NOW sip:sipp@${run.localIp}:${run.localPort} SIP/2.0`,
    `Via: SIP/2.0/UDP ${run.localIp}:${port};branch=z9hG4bK-test-${Date.now()}`,
    `From: <sip:test@${run.localIp}>;tag=test`,
    `To: <sip:sipp@${run.localIp}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 HANGUP-NOW',
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  try {
    await new Promise<void>((resolve, reject) => socket.send(word, run.localPort, run.localIp, (err) => (err ? reject(err) : resolve())));
  } finally {
    socket.close();
  }
}

export const runSipp = (o: SippOptions) => startSipp(o).done;

/**
 * A SIPp phone that answers: registers with `credentials` from a port of its
 * own, then runs `scenario` (a UAS) on that same port, bound before it resolves.
 * Throws when the registration fails.
 */
export async function startRegisteredSipp(o: { target: string; credentials: { username: string; password: string }; scenario: string; vars?: Record<string, string>; calls?: number; timeoutSeconds?: number }): Promise<SippRun> {
  const port = await freeSipPort();
  const reg = await runSipp({ scenario: 'register.xml', target: o.target, localPort: port, service: o.credentials.username, auth: o.credentials });
  if (reg.code !== 0) throw new Error(`SIPp could not register ${o.credentials.username}: ${reg.errors || reg.output.slice(-500)}`);
  const run = startSipp({ scenario: o.scenario, target: o.target, localPort: port, service: o.credentials.username, timeoutSeconds: o.timeoutSeconds ?? 30, calls: o.calls ?? 1, vars: o.vars ?? {}, extra: ['-mp', String(await freeMediaPort())] });
  await run.ready;
  return run;
}
