/**
 * What the benchmarks read of the machine from /proc (Linux): a process's CPU
 * time (all its threads), the whole machine's busy time, and the kernel's UDP
 * drops. CPU is taken from the kernel's accounting, not from event-loop busy time.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds of a process, all its threads (utime + stime, /proc/<pid>/stat fields 14 and 15), or null once it is gone. */
export function procCpuSeconds(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** Busy CPU seconds of the whole machine (/proc/stat: everything but idle and iowait). */
export function machineBusySeconds(): number {
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - cpu[3]! - cpu[4]!) / TICKS_PER_SECOND;
}

/** The kernel's count of UDP datagrams dropped for a full receive buffer, machine-wide (/proc/net/snmp), or NaN. */
export function udpReceiveBufferErrors(): number {
  try {
    const lines = fs.readFileSync('/proc/net/snmp', 'utf8').split('\n');
    const i = lines.findIndex((l) => l.startsWith('Udp:'));
    const names = lines[i]!.trim().split(/\s+/);
    const values = lines[i + 1]!.trim().split(/\s+/);
    return Number(values[names.indexOf('RcvbufErrors')] ?? NaN);
  } catch {
    return Number.NaN;
  }
}
