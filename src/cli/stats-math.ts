/**
 * What `docker stats` shows from one API stats sample (docker/cli cli/command/container/
 * stats_helpers.go): CPU % from the delta to precpu_stats, memory without the page cache, and
 * the summed network and block I/O.
 */
import { bytesSize, humanSizeWithPrecision } from './format/index.js';

type Json = Record<string, unknown>;

export interface StatsEntry {
  cpuPercent: number;
  memory: number;
  memoryLimit: number;
  memoryPercent: number;
  netRx: number;
  netTx: number;
  blockRead: number;
  blockWrite: number;
  pids: number;
}

const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export function cpuPercent(s: Json): number {
  const cpu = (s.cpu_stats as Json | undefined) ?? {};
  const pre = (s.precpu_stats as Json | undefined) ?? {};
  const usage = (cpu.cpu_usage as Json | undefined) ?? {};
  const preUsage = (pre.cpu_usage as Json | undefined) ?? {};
  const cpuDelta = n(usage.total_usage) - n(preUsage.total_usage);
  const systemDelta = n(cpu.system_cpu_usage) - n(pre.system_cpu_usage);
  let online = n(cpu.online_cpus);
  if (online === 0) online = ((usage.percpu_usage as unknown[] | undefined) ?? []).length;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;
}

/** docker's calculateMemUsageUnixNoCache: usage minus inactive page cache (v1 total_inactive_file, v2 inactive_file). */
export function memoryUsage(mem: Json): number {
  const usage = n(mem.usage);
  const stats = (mem.stats as Json | undefined) ?? {};
  for (const key of ['total_inactive_file', 'inactive_file']) {
    const v = stats[key];
    if (typeof v === 'number' && v < usage) return usage - v;
  }
  return usage;
}

export function statsEntry(s: Json): StatsEntry {
  const mem = (s.memory_stats as Json | undefined) ?? {};
  const memory = memoryUsage(mem);
  const limit = n(mem.limit);
  let netRx = 0;
  let netTx = 0;
  for (const v of Object.values((s.networks as Record<string, Json> | undefined) ?? {})) {
    netRx += n(v.rx_bytes);
    netTx += n(v.tx_bytes);
  }
  let blockRead = 0;
  let blockWrite = 0;
  for (const e of (((s.blkio_stats as Json | undefined)?.io_service_bytes_recursive as Json[] | null) ?? [])) {
    const op = String(e.op).toLowerCase();
    if (op === 'read') blockRead += n(e.value);
    else if (op === 'write') blockWrite += n(e.value);
  }
  return {
    cpuPercent: cpuPercent(s), memory, memoryLimit: limit, memoryPercent: limit > 0 ? (memory / limit) * 100 : 0,
    netRx, netTx, blockRead, blockWrite, pids: n((s.pids_stats as Json | undefined)?.current),
  };
}

/** The row `--format` templates see (docker's formatter.StatsEntry methods). */
export function statsRow(id: string, name: string, e: StatsEntry | null, trunc: boolean): Json {
  const dash = e === null;
  return {
    ID: trunc ? id.slice(0, 12) : id,
    Container: trunc ? id.slice(0, 12) : id,
    Name: name.replace(/^\//, ''),
    CPUPerc: dash ? '--' : `${e.cpuPercent.toFixed(2)}%`,
    MemUsage: dash ? '-- / --' : `${bytesSize(e.memory)} / ${bytesSize(e.memoryLimit)}`,
    MemPerc: dash ? '--' : `${e.memoryPercent.toFixed(2)}%`,
    NetIO: dash ? '--' : `${humanSizeWithPrecision(e.netRx, 3)} / ${humanSizeWithPrecision(e.netTx, 3)}`,
    BlockIO: dash ? '--' : `${humanSizeWithPrecision(e.blockRead, 3)} / ${humanSizeWithPrecision(e.blockWrite, 3)}`,
    PIDs: dash ? '--' : String(e.pids),
  };
}

export const STATS_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Container: 'CONTAINER', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
};

export const STATS_TABLE = '{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
