import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * baresip (Debian), a second softphone we did not write: registers with its
 * own credentials, answers automatically, plays a sine (a file made by sox) as its microphone and
 * records what it hears to a WAV file the test can measure.
 */
export interface Baresip {
  dir: string;
  /** The WAV of what baresip heard, once a call has ended (sndfile's "-dec.wav"). */
  received(): string | null;
  output(): string;
  waitFor(pattern: RegExp, ms?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startBaresip(o: { edge: string; username: string; password: string; localPort: number; sineHz?: number }): Promise<Baresip> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carillon-baresip-'));
  const received = path.join(dir, 'received.wav');
  // baresip's own sine source works at 48 kHz only; a file at the call's rate avoids resampling.
  const microphone = path.join(dir, 'microphone.wav');
  execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', microphone, 'synth', '20', 'sine', String(o.sineHz ?? 1000), 'vol', '0.5']);
  fs.writeFileSync(
    path.join(dir, 'config'),
    [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${o.localPort}`,
      'sip_transports udp',
      `audio_player aufile,${received}`,
      `audio_source aufile,${microphone}`,
      'audio_alert aufile,/dev/null',
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module aufile.so',
      // sndfile records what the call decodes (what baresip hears) as WAV under snd_path.
      'module sndfile.so',
      `snd_path ${dir}`,
      'module_app account.so',
      'module_app menu.so',
      'rtp_ports 46000-46999',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    path.join(dir, 'accounts'),
    `<sip:${o.username}@${o.edge};transport=udp>;auth_pass=${o.password};answermode=auto;regint=300;audio_codecs=PCMU,PCMA\n`,
  );
  fs.writeFileSync(path.join(dir, 'contacts'), '');
  const child: ChildProcess = spawn('baresip', ['-f', dir, '-4', ...(process.env.BARESIP_TRACE ? ['-s', '-v'] : [])], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    dir,
    received: () => {
      const dec = fs.readdirSync(dir).find((f) => f.endsWith('-dec.wav'));
      return dec ? path.join(dir, dec) : fs.existsSync(received) ? received : null;
    },
    output: () => out,
    async waitFor(pattern, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (!pattern.test(out)) {
        if (Date.now() > deadline) throw new Error(`baresip never printed ${pattern}:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      child.stdin!.on('error', () => undefined);
      if (child.exitCode === null) child.stdin!.write('q\n');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      child.kill('SIGKILL');
    },
  };
}
