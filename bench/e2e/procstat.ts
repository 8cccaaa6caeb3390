/**
 * What the kernel says a process costs: CPU ticks and resident memory from /proc.
 *
 * /proc/<pid>/stat of a thread-group leader sums the CPU of all its threads, living and exited
 * (proc(5): utime, stime are fields 14 and 15), so a multi-threaded target (Node workers, tgtd's
 * I/O threads) is charged in full by reading its leader. Child processes are added by walking
 * the parent links, in case a target ever forks helpers.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export const CLOCK_TICKS: number = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Fields after the `(comm)` part of /proc/<pid>/stat; index 0 is field 3 (state). */
function statFields(pid: number): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const close = text.lastIndexOf(')');
  return text.slice(close + 2).trim().split(' ');
}

function childrenOf(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f !== undefined) parent.set(Number(name), Number(f[1]));
  }
  const tree = new Set<number>([root]);
  // Bounded: each pass adds at least one pid or stops.
  for (let pass = 0; pass < 64; pass++) {
    let added = false;
    for (const [pid, ppid] of parent) {
      if (!tree.has(pid) && tree.has(ppid)) { tree.add(pid); added = true; }
    }
    if (!added) break;
  }
  return [...tree];
}

/** utime+stime of pid, all its threads and its descendants, in seconds; undefined if it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  let ticks = 0;
  let seen = false;
  for (const p of childrenOf(pid)) {
    const f = statFields(p);
    if (f === undefined) continue;
    seen = true;
    ticks += Number(f[11]) + Number(f[12]); // fields 14, 15
  }
  return seen ? ticks / CLOCK_TICKS : undefined;
}

/** VmRSS of the process in MiB (threads share it), undefined if it is gone. */
export function rssMiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Host-wide busy and total jiffies from the first line of /proc/stat. */
export function hostJiffies(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = cpu;
  const busy = user + nice + system + irq + softirq + (steal ?? 0);
  return { busy, total: busy + idle + iowait };
}

export function exeOf(pid: number): string | undefined {
  try {
    return execFileSync('readlink', [`/proc/${pid}/exe`], { encoding: 'utf8', timeout: 2000 }).trim();
  } catch {
    return undefined;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return statFields(pid)?.[0] !== 'Z';
  } catch {
    return false;
  }
}
