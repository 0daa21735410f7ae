/**
 * Docker's seccomp profile format -> the OCI `linux.seccomp` object for one architecture and one
 * capability set. Docker's format adds to the OCI one: `archMap` (native arch + sub-arches),
 * per-rule `includes`/`excludes` by capability, architecture and minimum kernel, and several
 * `names` per rule. The default profile ships as data (seccomp-default.json, a copy of moby's
 * profiles/seccomp/default.json) and is read once, lazily, relative to this module.
 */
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import type { OciSeccomp, OciSeccompArg, OciSeccompSyscall } from './oci-types.js';

interface DockerFilter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

interface DockerSyscallRule {
  name?: string;
  names?: string[];
  action: string;
  errnoRet?: number;
  args?: OciSeccompArg[] | null;
  includes?: DockerFilter;
  excludes?: DockerFilter;
}

export interface DockerSeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: Array<{ architecture: string; subArchitectures: string[] }>;
  syscalls?: DockerSyscallRule[];
}

/** Go's GOARCH names (the profile's `arches`) -> libseccomp's native architecture. */
const NATIVE_SECCOMP_ARCH: Record<string, string> = {
  amd64: 'SCMP_ARCH_X86_64',
  arm64: 'SCMP_ARCH_AARCH64',
  x86: 'SCMP_ARCH_X86',
  arm: 'SCMP_ARCH_ARM',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  s390x: 'SCMP_ARCH_S390X',
  riscv64: 'SCMP_ARCH_RISCV64',
};

/** Node's process.arch -> GOARCH. */
export function goArch(nodeArch: string = process.arch): string {
  return nodeArch === 'x64' ? 'amd64' : nodeArch === 'ia32' ? 'x86' : nodeArch;
}

export interface SeccompConvertOptions {
  /** GOARCH of the container, default the host's. */
  arch?: string;
  /** Effective (bounding) capability set, `CAP_` names. */
  capabilities: string[];
  /** Kernel release for `minKernel` filters, default os.release(). */
  kernel?: string;
}

let defaultProfile: DockerSeccompProfile | undefined;

/** Docker's default profile, read from the JSON next to this module (or its source in src/). */
export function dockerDefaultProfile(): DockerSeccompProfile {
  if (defaultProfile) return defaultProfile;
  const candidates = [
    new URL('./seccomp-default.json', import.meta.url),
    // compiled into dist/src/runtime/: the data file stays in src/runtime/
    new URL('../../../src/runtime/seccomp-default.json', import.meta.url),
  ];
  let lastErr: unknown;
  for (const url of candidates) {
    try {
      defaultProfile = JSON.parse(readFileSync(url, 'utf8')) as DockerSeccompProfile;
      return defaultProfile;
    } catch (err) {
      lastErr = err;
    }
  }
  throw new Error(`runtime: cannot read Docker's default seccomp profile seccomp-default.json`, { cause: lastErr });
}

function kernelAtLeast(kernel: string, min: string): boolean {
  const parse = (v: string) => v.split(/[.-]/).slice(0, 2).map((p) => Number.parseInt(p, 10) || 0);
  const [kMaj = 0, kMin = 0] = parse(kernel);
  const [mMaj = 0, mMin = 0] = parse(min);
  return kMaj !== mMaj ? kMaj > mMaj : kMin >= mMin;
}

/** Mirrors moby's profiles/seccomp setupSeccomp: which rules apply to this arch, caps and kernel. */
function ruleApplies(rule: DockerSyscallRule, arch: string, caps: Set<string>, kernel: string): boolean {
  const ex = rule.excludes;
  if (ex) {
    if (ex.arches?.includes(arch)) return false;
    if (ex.caps?.some((c) => caps.has(c))) return false;
    if (ex.minKernel && kernelAtLeast(kernel, ex.minKernel)) return false;
  }
  const inc = rule.includes;
  if (inc) {
    if (inc.arches && inc.arches.length > 0 && !inc.arches.includes(arch)) return false;
    if (inc.caps && !inc.caps.every((c) => caps.has(c))) return false;
    if (inc.minKernel && !kernelAtLeast(kernel, inc.minKernel)) return false;
  }
  return true;
}

export function convertDockerSeccomp(profile: DockerSeccompProfile, opts: SeccompConvertOptions): OciSeccomp {
  const arch = opts.arch ?? goArch();
  const kernel = opts.kernel ?? release();
  const caps = new Set(opts.capabilities);
  const out: OciSeccomp = { defaultAction: profile.defaultAction };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;

  const native = NATIVE_SECCOMP_ARCH[arch];
  if (profile.archMap && native) {
    const entry = profile.archMap.find((a) => a.architecture === native);
    if (entry) out.architectures = [entry.architecture, ...entry.subArchitectures];
  } else if (profile.architectures) {
    out.architectures = [...profile.architectures];
  }

  const syscalls: OciSeccompSyscall[] = [];
  for (const rule of profile.syscalls ?? []) {
    if (!ruleApplies(rule, arch, caps, kernel)) continue;
    const names = rule.names ?? (rule.name ? [rule.name] : []);
    if (names.length === 0) continue;
    const sc: OciSeccompSyscall = { names: [...names], action: rule.action };
    if (rule.errnoRet !== undefined) sc.errnoRet = rule.errnoRet;
    if (rule.args && rule.args.length > 0) sc.args = rule.args.map((a) => ({ ...a }));
    syscalls.push(sc);
  }
  out.syscalls = syscalls;
  return out;
}
