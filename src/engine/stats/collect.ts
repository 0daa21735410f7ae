/**
 * One stats sample of a container in Docker's shape (API v1.47 ContainerStatsResponse), read
 * from cgroup v1 or v2 files and /proc. The reader is injected, so unit tests feed recorded
 * files of both hierarchies; hakod passes fs.readFile.
 */

type Json = Record<string, unknown>;

/** Resolves a file's text, or null when it does not exist (a controller not mounted, a gone pid). */
export type ReadText = (path: string) => Promise<string | null>;

export interface SampleInput {
  id: string;
  name: string;
  /** 0 when not running: the sample is Docker's zeroed one. */
  pid: number;
  cgroupVersion: 1 | 2;
  /** runc's cgroupsPath, e.g. `/hako/<id>`. */
  cgroupPath: string;
  cgroupRoot?: string;
  procRoot?: string;
  now?: Date;
}

/** USER_HZ: cpuacct.stat and /proc/stat count in 1/100 s on every Linux we run on. */
const TICK_NS = 10_000_000;

const int = (s: string | undefined): number => {
  const n = Number((s ?? '').trim());
  return Number.isFinite(n) ? n : 0;
};

function keyValues(text: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out[k] = int(v);
  }
  return out;
}

/** /proc/stat: the host's total CPU time in ns (docker's getSystemCPUUsage) and the CPU count. */
export function systemCpu(procStat: string | null): { systemNs: number; online: number } {
  let systemNs = 0;
  let online = 0;
  for (const line of (procStat ?? '').split('\n')) {
    if (line.startsWith('cpu ')) {
      const f = line.trim().split(/\s+/).slice(1, 8).map(int);
      systemNs = f.reduce((a, b) => a + b, 0) * TICK_NS;
    } else if (/^cpu\d+ /.test(line)) {
      online++;
    }
  }
  return { systemNs, online };
}

/** /proc/<pid>/net/dev: Docker's `networks` (lo left out), or undefined when none. */
export function networksOf(netDev: string | null): Json | undefined {
  const out: Json = {};
  for (const line of (netDev ?? '').split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === 'lo') continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map(int);
    out[name] = {
      rx_bytes: f[0] ?? 0, rx_packets: f[1] ?? 0, rx_errors: f[2] ?? 0, rx_dropped: f[3] ?? 0,
      tx_bytes: f[8] ?? 0, tx_packets: f[9] ?? 0, tx_errors: f[10] ?? 0, tx_dropped: f[11] ?? 0,
    };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A limit file's value; "max" (v2) and v1's "unlimited" page-rounded int64 are null. */
function limitOf(text: string | null): number | null {
  const t = (text ?? '').trim();
  if (t === '' || t === 'max') return null;
  const n = Number(t);
  return Number.isFinite(n) && n < 2 ** 62 ? n : null;
}

function blkioV1(text: string | null): Json[] {
  const out: Json[] = [];
  for (const line of (text ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: int(m[1]), minor: int(m[2]), op: m[3], value: int(m[4]) });
  }
  return out;
}

/** io.stat (v2) as Docker reports it: Read/Write entries per device. */
function blkioV2(text: string | null): { bytes: Json[]; ios: Json[] } {
  const bytes: Json[] = [];
  const ios: Json[] = [];
  for (const line of (text ?? '').split('\n')) {
    const [dev, ...kvs] = line.trim().split(/\s+/);
    const mm = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!mm) continue;
    const kv = Object.fromEntries(kvs.map((p) => p.split('=') as [string, string]));
    const major = int(mm[1]);
    const minor = int(mm[2]);
    bytes.push({ major, minor, op: 'read', value: int(kv.rbytes) }, { major, minor, op: 'write', value: int(kv.wbytes) });
    ios.push({ major, minor, op: 'read', value: int(kv.rios) }, { major, minor, op: 'write', value: int(kv.wios) });
  }
  return { bytes, ios };
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Docker's stats of a container that is not running: everything zero. */
export function zeroSample(id: string, name: string): Json {
  return {
    read: ZERO_TIME, preread: ZERO_TIME, pids_stats: {},
    blkio_stats: { io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null },
    num_procs: 0, storage_stats: {},
    cpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    precpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    memory_stats: {}, name: `/${name}`, id,
  };
}

export async function sample(read: ReadText, i: SampleInput): Promise<Json> {
  if (i.pid <= 0) return zeroSample(i.id, i.name);
  const root = i.cgroupRoot ?? '/sys/fs/cgroup';
  const proc = i.procRoot ?? '/proc';
  const [procStat, netDev, meminfo] = await Promise.all([
    read(`${proc}/stat`), read(`${proc}/${i.pid}/net/dev`), read(`${proc}/meminfo`),
  ]);
  const { systemNs, online } = systemCpu(procStat);
  const hostMem = int(/MemTotal:\s+(\d+)/.exec(meminfo ?? '')?.[1]) * 1024;
  const out: Json = {
    read: (i.now ?? new Date()).toISOString(), preread: ZERO_TIME, num_procs: 0, storage_stats: {},
    name: `/${i.name}`, id: i.id,
  };
  if (i.cgroupVersion === 1) {
    const g = (ctrl: string, file: string) => read(`${root}/${ctrl}${i.cgroupPath}/${file}`);
    const [usage, percpu, cpuacctStat, cpuStat, memUsage, memMax, memLimit, memFailcnt, memStat, blkBytes, blkIos, pidsCur, pidsMax] = await Promise.all([
      g('cpuacct', 'cpuacct.usage'), g('cpuacct', 'cpuacct.usage_percpu'), g('cpuacct', 'cpuacct.stat'), g('cpu', 'cpu.stat'),
      g('memory', 'memory.usage_in_bytes'), g('memory', 'memory.max_usage_in_bytes'), g('memory', 'memory.limit_in_bytes'),
      g('memory', 'memory.failcnt'), g('memory', 'memory.stat'),
      g('blkio', 'blkio.throttle.io_service_bytes_recursive'), g('blkio', 'blkio.throttle.io_serviced_recursive'),
      g('pids', 'pids.current'), g('pids', 'pids.max'),
    ]);
    const acct = keyValues(cpuacctStat);
    const thr = keyValues(cpuStat);
    out.cpu_stats = {
      cpu_usage: {
        total_usage: int(usage ?? ''),
        percpu_usage: (percpu ?? '').trim().split(/\s+/).filter(Boolean).map(int),
        usage_in_kernelmode: (acct.system ?? 0) * TICK_NS,
        usage_in_usermode: (acct.user ?? 0) * TICK_NS,
      },
      system_cpu_usage: systemNs,
      online_cpus: online,
      throttling_data: { periods: thr.nr_periods ?? 0, throttled_periods: thr.nr_throttled ?? 0, throttled_time: thr.throttled_time ?? 0 },
    };
    const limit = limitOf(memLimit);
    out.memory_stats = {
      usage: int(memUsage ?? ''), max_usage: int(memMax ?? ''), stats: keyValues(memStat), failcnt: int(memFailcnt ?? ''),
      limit: limit === null ? hostMem : Math.min(limit, hostMem || limit),
    };
    out.blkio_stats = {
      io_service_bytes_recursive: blkioV1(blkBytes), io_serviced_recursive: blkioV1(blkIos), io_queue_recursive: null,
      io_service_time_recursive: null, io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
    };
    const pmax = limitOf(pidsMax);
    out.pids_stats = { current: int(pidsCur ?? ''), ...(pmax !== null ? { limit: pmax } : {}) };
  } else {
    const g = (file: string) => read(`${root}${i.cgroupPath}/${file}`);
    const [cpuStat, memCur, memMax, memStat, ioStat, pidsCur, pidsMax] = await Promise.all([
      g('cpu.stat'), g('memory.current'), g('memory.max'), g('memory.stat'), g('io.stat'), g('pids.current'), g('pids.max'),
    ]);
    const c = keyValues(cpuStat);
    out.cpu_stats = {
      cpu_usage: {
        total_usage: (c.usage_usec ?? 0) * 1000,
        usage_in_kernelmode: (c.system_usec ?? 0) * 1000,
        usage_in_usermode: (c.user_usec ?? 0) * 1000,
      },
      system_cpu_usage: systemNs,
      online_cpus: online,
      throttling_data: { periods: c.nr_periods ?? 0, throttled_periods: c.nr_throttled ?? 0, throttled_time: (c.throttled_usec ?? 0) * 1000 },
    };
    const limit = limitOf(memMax);
    out.memory_stats = {
      usage: int(memCur ?? ''), stats: keyValues(memStat),
      limit: limit === null ? hostMem : Math.min(limit, hostMem || limit),
    };
    const io = blkioV2(ioStat);
    out.blkio_stats = {
      io_service_bytes_recursive: io.bytes, io_serviced_recursive: io.ios, io_queue_recursive: null,
      io_service_time_recursive: null, io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
    };
    const pmax = limitOf(pidsMax);
    out.pids_stats = { current: int(pidsCur ?? ''), ...(pmax !== null ? { limit: pmax } : {}) };
  }
  const networks = networksOf(netDev);
  if (networks) out.networks = networks;
  return out;
}

/** The next sample with the previous one's cpu_stats as precpu_stats (Docker's stream). */
export function withPrevious(current: Json, previous: Json | null): Json {
  if (!previous) {
    return { ...current, precpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } } };
  }
  return { ...current, preread: previous.read, precpu_stats: previous.cpu_stats };
}
