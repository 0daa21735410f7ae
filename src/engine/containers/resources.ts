/**
 * Docker's resource options (HostConfig's Resources part) as OCI `linux.resources`, with the
 * daemon's validation (moby daemon/daemon_unix.go verifyPlatformContainerResources) so a bad
 * value is refused at create and at update with Docker's words. Pure: the host's CPU count and
 * cgroup version come in as arguments. runc maps these v1-shaped fields onto cgroup v2 itself
 * (memory.max, memory.swap.max = swap - limit, cpu.max, cpu.weight from shares, pids.max).
 */
import { InvalidArgument } from '../../errdefs/index.js';
import type { OciResources } from '../../runtime/index.js';
import type { Json } from '../contract.js';

export interface HostFacts {
  cpus: number;
  cgroupVersion: 1 | 2;
}

/** The HostConfig keys that are resources (what POST /containers/{id}/update may change). */
export const RESOURCE_KEYS = [
  'CpuShares', 'Memory', 'NanoCpus', 'CpuPeriod', 'CpuQuota', 'CpuRealtimePeriod', 'CpuRealtimeRuntime',
  'CpusetCpus', 'CpusetMems', 'MemoryReservation', 'MemorySwap', 'MemorySwappiness', 'KernelMemory',
  'KernelMemoryTCP', 'OomKillDisable', 'PidsLimit', 'BlkioWeight', 'BlkioWeightDevice',
  'BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps',
  'CgroupParent', 'Devices', 'DeviceCgroupRules', 'DeviceRequests', 'Ulimits', 'CpuCount', 'CpuPercent',
  'IOMaximumIOps', 'IOMaximumBandwidth',
] as const;

const MIN_MEMORY = 6 * 1024 * 1024;

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** "0-2,4" -> [0,1,2,4]; InvalidArgument for anything else. */
export function parseCpuList(list: string, what: string): number[] {
  const out: number[] = [];
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new InvalidArgument(`Invalid value ${list} for ${what}`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new InvalidArgument(`Invalid value ${list} for ${what}`);
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

/**
 * Validates the resource fields of a HostConfig (at create: `hc` alone; at update: the merged
 * result) and answers the OCI resources runc gets (devices excepted: runtime/spec.ts adds them).
 */
export function resourcesOf(hc: Json, host: HostFacts): Omit<OciResources, 'devices'> {
  const r: Omit<OciResources, 'devices'> = {};
  const memory = num(hc.Memory);
  const swap = num(hc.MemorySwap);
  const reservation = num(hc.MemoryReservation);
  const swappiness = hc.MemorySwappiness === null || hc.MemorySwappiness === undefined ? -1 : num(hc.MemorySwappiness);
  if (memory < 0 || reservation < 0) throw new InvalidArgument('invalid memory limit: a memory size cannot be negative');
  if (memory > 0 && memory < MIN_MEMORY) throw new InvalidArgument('Minimum memory limit allowed is 6MB');
  if (swap > 0 && memory === 0) throw new InvalidArgument('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (swap > 0 && swap < memory) throw new InvalidArgument('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (reservation > 0 && reservation < MIN_MEMORY) throw new InvalidArgument('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && reservation > memory) {
    throw new InvalidArgument('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw new InvalidArgument(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  }
  if (num(hc.KernelMemory) > 0) throw new InvalidArgument('kernel memory limits (--kernel-memory) are not supported: the kernel deprecated them');
  const mem: NonNullable<OciResources['memory']> = {};
  if (memory > 0) {
    mem.limit = memory;
    // Docker: no --memory-swap means swap = 2 x memory; -1 is unlimited.
    mem.swap = swap > 0 ? swap : swap === 0 ? memory * 2 : -1;
  }
  if (reservation > 0) mem.reservation = reservation;
  if (hc.OomKillDisable === true) mem.disableOOMKiller = true;
  if (swappiness !== -1 && host.cgroupVersion === 1) mem.swappiness = swappiness;
  if (Object.keys(mem).length > 0) r.memory = mem;

  const nano = num(hc.NanoCpus);
  const period = num(hc.CpuPeriod);
  const quota = num(hc.CpuQuota);
  const shares = num(hc.CpuShares);
  if (nano < 0) throw new InvalidArgument('invalid value for --cpus: must be positive');
  if (nano > 0 && period > 0) throw new InvalidArgument('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && quota > 0) throw new InvalidArgument('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (nano > 0 && (nano < 1e7 || nano > host.cpus * 1e9)) {
    throw new InvalidArgument(`Range of CPUs is from 0.01 to ${host.cpus.toFixed(2)}, as there are only ${host.cpus} CPUs available`);
  }
  if (period !== 0 && (period < 1000 || period > 1000000)) throw new InvalidArgument('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if (quota !== 0 && quota !== -1 && quota < 1000) throw new InvalidArgument('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (shares < 0) throw new InvalidArgument('invalid CPU shares: must be positive');
  const cpu: NonNullable<OciResources['cpu']> = {};
  if (nano > 0) {
    cpu.period = 100000;
    cpu.quota = Math.round((nano / 1e9) * 100000);
  }
  if (period > 0) cpu.period = period;
  if (quota !== 0) cpu.quota = quota;
  // The kernel's minimum weight is 2; docker clamps the same way.
  if (shares > 0) cpu.shares = Math.max(shares, 2);
  for (const [key, what] of [['CpusetCpus', 'cpuset cpus'], ['CpusetMems', 'cpuset mems']] as const) {
    const v = typeof hc[key] === 'string' ? (hc[key] as string) : '';
    if (v === '') continue;
    const ids = parseCpuList(v, what);
    if (key === 'CpusetCpus') {
      const bad = ids.filter((c) => c >= host.cpus);
      if (bad.length) throw new InvalidArgument(`Requested CPUs are not available - requested ${v}, available: 0-${host.cpus - 1}`);
      cpu.cpus = v;
    } else {
      cpu.mems = v;
    }
  }
  if (num(hc.CpuRealtimePeriod) || num(hc.CpuRealtimeRuntime)) {
    throw new InvalidArgument('real-time CPU scheduling (--cpu-rt-period/--cpu-rt-runtime) is not supported by hako');
  }
  if (Object.keys(cpu).length > 0) r.cpu = cpu;

  const pids = hc.PidsLimit === null || hc.PidsLimit === undefined ? 0 : num(hc.PidsLimit);
  // 0 and -1 both mean unlimited (docker's "set -1 for unlimited").
  if (pids > 0) r.pids = { limit: pids };
  else if (pids < 0 && pids !== -1) throw new InvalidArgument(`invalid pids limit ${pids}: use a positive number, or -1 for unlimited`);

  const weight = num(hc.BlkioWeight);
  if (weight !== 0 && (weight < 10 || weight > 1000)) throw new InvalidArgument('Range of blkio weight is from 10 to 1000');
  if (weight > 0) r.blockIO = { weight };
  for (const key of ['BlkioWeightDevice', 'BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps']) {
    const v = hc[key];
    if (Array.isArray(v) && v.length > 0) throw new InvalidArgument(`${key} (per-device block IO limits) is not supported by hako yet`);
  }
  return r;
}

/** --oom-score-adj range (moby verifyPlatformContainerSettings). */
export function checkOomScoreAdj(v: unknown): void {
  const n = num(v);
  if (n < -1000 || n > 1000) throw new InvalidArgument(`Invalid value ${n}, range for oom score adj is [-1000, 1000]`);
}

/** The resource keys `update` applies live (what `runc update` can change). */
export const UPDATABLE_RESOURCE_KEYS: readonly string[] = [
  'CpuShares', 'Memory', 'NanoCpus', 'CpuPeriod', 'CpuQuota', 'CpusetCpus', 'CpusetMems',
  'MemoryReservation', 'MemorySwap', 'PidsLimit', 'BlkioWeight',
];

const isSet = (v: unknown): boolean => v !== undefined && v !== null && v !== 0 && v !== '';

/**
 * POST /containers/{id}/update's resource part (moby container.UpdateContainer): only fields given
 * with a non-zero value change; the merged HostConfig is validated as a whole. Answers the new
 * HostConfig fields and the complete OCI resources to hand to `runc update`, or null when the
 * body changes no resource.
 */
export function resourceUpdate(hc: Json, body: Json, host: HostFacts): { patch: Json; resources: Omit<OciResources, 'devices'> } | null {
  const patch: Json = {};
  for (const k of UPDATABLE_RESOURCE_KEYS) if (isSet(body[k])) patch[k] = body[k];
  if (Object.keys(patch).length === 0) return null;
  const oldSwap = num(hc.MemorySwap);
  if (isSet(patch.Memory) && !isSet(patch.MemorySwap) && oldSwap > 0 && num(patch.Memory) > oldSwap) {
    throw new InvalidArgument('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
  }
  // --cpus replaces a period/quota pair and the other way round (docker does the same).
  if (isSet(patch.NanoCpus)) Object.assign(patch, { CpuPeriod: 0, CpuQuota: 0 });
  if (isSet(patch.CpuPeriod) || isSet(patch.CpuQuota)) patch.NanoCpus = isSet(patch.NanoCpus) ? patch.NanoCpus : 0;
  const merged = { ...hc, ...patch };
  const resources = resourcesOf(merged, host);
  // runc keeps a value it is not given: say "unlimited" for what the merge cleared.
  if (resources.cpu && resources.cpu.quota === undefined && (isSet(hc.NanoCpus) || isSet(hc.CpuQuota))) resources.cpu.quota = -1;
  return { patch, resources };
}

/**
 * The HostConfig fields of this issue as `docker inspect` shows them when the create body left
 * them out (moby's zero values, the daemon's defaults): only missing keys are filled.
 */
export function hostConfigDefaults(hc: Json, host: { cgroupVersion: 1 | 2; maskedPaths: readonly string[]; readonlyPaths: readonly string[] }): void {
  const defaults: Json = {
    CpuShares: 0, Memory: 0, NanoCpus: 0, CgroupParent: '', BlkioWeight: 0, BlkioWeightDevice: [],
    BlkioDeviceReadBps: [], BlkioDeviceWriteBps: [], BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [],
    CpuPeriod: 0, CpuQuota: 0, CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: '', CpusetMems: '',
    Devices: [], DeviceCgroupRules: null, DeviceRequests: null, MemoryReservation: 0, MemorySwap: 0,
    MemorySwappiness: null, OomKillDisable: host.cgroupVersion === 1 ? false : null, PidsLimit: null, Ulimits: [],
    CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0,
    GroupAdd: null, OomScoreAdj: 0, PidMode: '', UTSMode: '', UsernsMode: '', VolumeDriver: '', VolumesFrom: null,
    CgroupnsMode: host.cgroupVersion === 2 ? 'private' : 'host', Cgroup: '', Runtime: 'runc', Isolation: '',
    Sysctls: undefined, PublishAllPorts: false, ShmSize: 67108864,
  };
  for (const [k, v] of Object.entries(defaults)) if (!(k in hc) && v !== undefined) hc[k] = v;
  if (!hc.IpcMode) hc.IpcMode = 'private';
  if (!hc.CgroupnsMode) hc.CgroupnsMode = defaults.CgroupnsMode;
  // The paths actually masked (none when privileged), as docker records them.
  if (hc.MaskedPaths === undefined || hc.MaskedPaths === null) hc.MaskedPaths = hc.Privileged ? [] : [...host.maskedPaths];
  if (hc.ReadonlyPaths === undefined || hc.ReadonlyPaths === null) hc.ReadonlyPaths = hc.Privileged ? [] : [...host.readonlyPaths];
}
