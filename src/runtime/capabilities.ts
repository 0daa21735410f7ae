/**
 * Docker's capability model: a default set of 14, `--cap-add`/`--cap-drop` (with or without the
 * `CAP_` prefix, any case, `ALL`), `--privileged` = every capability. Follows moby's
 * oci/caps TweakCapabilities: drops win over adds unless the add is explicit and the drop is ALL.
 */
import { InvalidArgument } from '../errdefs/index.js';

export const DOCKER_DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Every capability Linux 6.x knows, in number order (linux/capability.h). */
export const ALL_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

const KNOWN = new Set(ALL_CAPABILITIES);

/** `net_admin`, `NET_ADMIN`, `CAP_NET_ADMIN` -> `CAP_NET_ADMIN`; `all` -> `ALL`. */
export function normalizeCapability(name: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!KNOWN.has(full)) throw new InvalidArgument(`invalid capability "${name}": unknown capability; see capabilities(7) for the names`);
  return full;
}

export interface CapabilityOptions {
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  /** What the daemon may grant (its bounding set): `--privileged` and `ALL` are cut to it. */
  boundingCapabilities?: string[];
}

/** The effective capability set of a container, in capability-number order. */
export function effectiveCapabilities(opts: CapabilityOptions): string[] {
  const bounding = opts.boundingCapabilities ? new Set(opts.boundingCapabilities) : null;
  const all = bounding ? ALL_CAPABILITIES.filter((c) => bounding.has(c)) : [...ALL_CAPABILITIES];
  if (opts.privileged) return all;
  const adds = (opts.capAdd ?? []).map(normalizeCapability);
  const drops = (opts.capDrop ?? []).map(normalizeCapability);
  const addAll = adds.includes('ALL');
  const dropAll = drops.includes('ALL');
  let caps: Set<string>;
  if (addAll) {
    caps = new Set(all.filter((c) => !drops.includes(c)));
  } else if (dropAll) {
    // `--cap-drop ALL --cap-add X`: nothing but the explicit adds.
    caps = new Set(adds);
  } else {
    caps = new Set(DOCKER_DEFAULT_CAPABILITIES.filter((c) => !drops.includes(c)));
    for (const a of adds) caps.add(a);
  }
  if (bounding) {
    const missing = [...caps].filter((c) => !bounding.has(c));
    if (missing.length) throw new InvalidArgument(`capability ${missing.join(', ')} cannot be granted: hakod itself does not hold it (its bounding set lacks it)`);
  }
  return ALL_CAPABILITIES.filter((c) => caps.has(c));
}
