// Reading /proc to find the processes an engine is made of and what memory they hold.
// Only ever used to *read*: benchmarks end processes they started themselves, by pid.
import { readdirSync, readFileSync } from 'node:fs';

/** Every live process as { pid, ppid, comm, argv }. Processes that exit while we read are skipped. */
export function listProcesses() {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // comm is in parentheses and may itself hold spaces or ')': split after the last ')'.
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
      out.push({ pid: Number(name), ppid, comm, argv });
    } catch {
      // gone between readdir and read
    }
  }
  return out;
}

/** The children of `pid` (direct only). */
export function childrenOf(pid, procs = listProcesses()) {
  return procs.filter((p) => p.ppid === pid);
}

/** Whether smaps_rollup exists (Linux >= 4.14): then PSS splits shared pages fairly between processes. */
export function hasPss(pid = process.pid) {
  try {
    readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return true;
  } catch {
    return false;
  }
}

function kib(text, field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** { rss, pss } of one process in KiB (pss is 0 without smaps_rollup). */
export function memoryOf(pid) {
  const rss = kib(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS');
  let pss = 0;
  try {
    pss = kib(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss');
  } catch {
    // older kernel: RSS only
  }
  return { rss, pss };
}

/** Sums memoryOf over pids, skipping any that exited meanwhile. */
export function sumMemory(pids) {
  let rss = 0;
  let pss = 0;
  let counted = 0;
  for (const pid of pids) {
    try {
      const m = memoryOf(pid);
      rss += m.rss;
      pss += m.pss;
      counted++;
    } catch {
      // exited
    }
  }
  return { rss, pss, counted };
}

const TICKS = 100; // USER_HZ on Linux

/** user+sys of a process plus what its reaped children used, in seconds (0 when it is gone). */
export function cpuOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields 14-17 of stat (1-based): utime stime cutime cstime; f[0] is field 3.
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICKS;
  } catch {
    return 0;
  }
}

/** cpuOf summed over `pid` and every live descendant (an engine: dockerd, containerd, shims ...). */
export function treeCpu(pid, procs = listProcesses()) {
  let total = cpuOf(pid);
  for (const child of childrenOf(pid, procs)) total += treeCpu(child.pid, procs);
  return total;
}
