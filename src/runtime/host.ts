/**
 * Facts about the host the runtime needs: the cgroup version, where tini is, absolute paths of
 * the runc/conmon binaries (conmon insists on an absolute, executable runtime path).
 */
import { ALL_CAPABILITIES } from './capabilities.js';
import { accessSync, constants, readFileSync, statfsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const CGROUP2_SUPER_MAGIC = 0x63677270;

/** 2 when /sys/fs/cgroup is a cgroup2 mount (unified), else 1 (legacy or hybrid). */
export function detectCgroupVersion(root = '/sys/fs/cgroup'): 1 | 2 {
  try {
    return statfsSync(root).type === CGROUP2_SUPER_MAGIC ? 2 : 1;
  } catch {
    return 1;
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `name` resolved through $PATH (or returned as is when it has a slash); null when absent. */
export function lookPath(name: string, pathEnv = process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'): string | null {
  if (name.includes('/')) return isExecutable(name) ? name : null;
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (isExecutable(p)) return p;
  }
  return null;
}

/** The host binary to bind at /sbin/docker-init for `--init`: a static tini first, it needs no libc in the image. */
export function findInitBinary(): string | null {
  return lookPath('tini-static') ?? lookPath('docker-init') ?? lookPath('tini');
}

/** This process's hard RLIMIT_NOFILE (from /proc/self/limits); undefined when unlimited or unknown. */
export function hostNofileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const hard = line?.trim().split(/\s+/)[4];
    const n = Number(hard);
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The capabilities this process may hand on (its bounding set, /proc/self/status CapBnd), in
 * ALL_CAPABILITIES order. hakod itself may run with fewer than the kernel knows (in a container,
 * under systemd's CapabilityBoundingSet); runc fails asking for more. Undefined when unreadable.
 */
export function hostCapabilities(): string[] | undefined {
  try {
    const hex = /CapBnd:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (!hex) return undefined;
    const mask = BigInt(`0x${hex}`);
    return ALL_CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
  } catch {
    return undefined;
  }
}

const LIMIT_ROWS: Record<string, string> = {
  'Max cpu time': 'cpu', 'Max file size': 'fsize', 'Max data size': 'data', 'Max stack size': 'stack',
  'Max core file size': 'core', 'Max resident set': 'rss', 'Max processes': 'nproc', 'Max open files': 'nofile',
  'Max locked memory': 'memlock', 'Max address space': 'as', 'Max file locks': 'locks',
  'Max pending signals': 'sigpending', 'Max msgqueue size': 'msgqueue', 'Max nice priority': 'nice',
  'Max realtime priority': 'rtprio', 'Max realtime timeout': 'rttime',
};

/** This process's hard rlimits by Docker's ulimit name ("unlimited" left out), from /proc/self/limits. */
export function hostHardLimits(): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const line of readFileSync('/proc/self/limits', 'utf8').split('\n')) {
      const row = Object.keys(LIMIT_ROWS).find((r) => line.startsWith(r));
      if (!row) continue;
      const hard = line.slice(row.length).trim().split(/\s+/)[1];
      const n = Number(hard);
      if (Number.isSafeInteger(n)) out[LIMIT_ROWS[row] as string] = n;
    }
  } catch {
    // Not Linux or no procfs: nothing known, nothing refused.
  }
  return out;
}
