import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sample, withPrevious, systemCpu, networksOf } from '../../../src/engine/stats/index.js';
import { statsEntry, statsRow, cpuPercent } from '../../../src/cli/stats-math.js';

const PROC_STAT = 'cpu  100 0 50 800 10 0 5 0 0 0\ncpu0 50 0 25 400 5 0 3 0 0 0\ncpu1 50 0 25 400 5 0 2 0 0 0\nintr 1\n';
const NET_DEV = 'Inter-|   Receive\n face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop\n    lo: 10 1 0 0 0 0 0 0 10 1 0 0 0 0 0 0\n  eth0: 1500 12 0 1 0 0 0 0 700 8 0 0 0 0 0 0\n';
const MEMINFO = 'MemTotal:        8000000 kB\n';

function reader(files: Record<string, string>) {
  return async (p: string): Promise<string | null> => files[p] ?? null;
}

test('/proc/stat gives docker\'s system_cpu_usage (ticks -> ns) and the online CPUs', () => {
  assert.deepEqual(systemCpu(PROC_STAT), { systemNs: (100 + 50 + 800 + 10 + 5) * 10_000_000, online: 2 });
});

test('/proc/<pid>/net/dev without lo is docker\'s networks', () => {
  assert.deepEqual(networksOf(NET_DEV), {
    eth0: { rx_bytes: 1500, rx_packets: 12, rx_errors: 0, rx_dropped: 1, tx_bytes: 700, tx_packets: 8, tx_errors: 0, tx_dropped: 0 },
  });
  assert.equal(networksOf('h\nh\n    lo: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n'), undefined);
});

test('a cgroup v1 sample has docker\'s fields', async () => {
  const g = '/sys/fs/cgroup';
  const p = '/hako/abc';
  const s = await sample(reader({
    '/proc/stat': PROC_STAT, '/proc/42/net/dev': NET_DEV, '/proc/meminfo': MEMINFO,
    [`${g}/cpuacct${p}/cpuacct.usage`]: '5000000000\n',
    [`${g}/cpuacct${p}/cpuacct.usage_percpu`]: '3000000000 2000000000 \n',
    [`${g}/cpuacct${p}/cpuacct.stat`]: 'user 300\nsystem 100\n',
    [`${g}/cpu${p}/cpu.stat`]: 'nr_periods 10\nnr_throttled 2\nthrottled_time 999\n',
    [`${g}/memory${p}/memory.usage_in_bytes`]: '10485760\n',
    [`${g}/memory${p}/memory.max_usage_in_bytes`]: '20971520\n',
    [`${g}/memory${p}/memory.limit_in_bytes`]: '9223372036854771712\n',
    [`${g}/memory${p}/memory.failcnt`]: '0\n',
    [`${g}/memory${p}/memory.stat`]: 'cache 4096\ntotal_inactive_file 2097152\n',
    [`${g}/blkio${p}/blkio.throttle.io_service_bytes_recursive`]: '8:0 Read 4096\n8:0 Write 8192\n8:0 Total 12288\nTotal 12288\n',
    [`${g}/pids${p}/pids.current`]: '3\n',
    [`${g}/pids${p}/pids.max`]: 'max\n',
  }), { id: 'abc', name: 'web', pid: 42, cgroupVersion: 1, cgroupPath: p, now: new Date('2024-01-01T00:00:00Z') });
  assert.equal(s.name, '/web');
  assert.deepEqual(s.cpu_stats, {
    cpu_usage: { total_usage: 5e9, percpu_usage: [3e9, 2e9], usage_in_kernelmode: 1e9, usage_in_usermode: 3e9 },
    system_cpu_usage: 965 * 10_000_000, online_cpus: 2,
    throttling_data: { periods: 10, throttled_periods: 2, throttled_time: 999 },
  });
  assert.deepEqual(s.memory_stats, { usage: 10485760, max_usage: 20971520, stats: { cache: 4096, total_inactive_file: 2097152 }, failcnt: 0, limit: 8000000 * 1024 });
  assert.deepEqual((s.blkio_stats as Record<string, unknown>).io_service_bytes_recursive, [
    { major: 8, minor: 0, op: 'Read', value: 4096 }, { major: 8, minor: 0, op: 'Write', value: 8192 }, { major: 8, minor: 0, op: 'Total', value: 12288 },
  ]);
  assert.deepEqual(s.pids_stats, { current: 3 });
  const e = statsEntry(withPrevious(s, null));
  assert.equal(e.memory, 8 << 20);
  assert.deepEqual([e.blockRead, e.blockWrite, e.netRx, e.netTx, e.pids], [4096, 8192, 1500, 700, 3]);
});

test('a cgroup v2 sample reads the unified files', async () => {
  const base = '/sys/fs/cgroup/hako/abc';
  const s = await sample(reader({
    '/proc/stat': PROC_STAT, '/proc/meminfo': MEMINFO,
    [`${base}/cpu.stat`]: 'usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 7\n',
    [`${base}/memory.current`]: '5242880\n', [`${base}/memory.max`]: '67108864\n',
    [`${base}/memory.stat`]: 'anon 100\ninactive_file 1048576\n',
    [`${base}/io.stat`]: '8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n',
    [`${base}/pids.current`]: '2\n', [`${base}/pids.max`]: '10\n',
  }), { id: 'abc', name: 'web', pid: 7, cgroupVersion: 2, cgroupPath: '/hako/abc' });
  assert.deepEqual((s.cpu_stats as Record<string, unknown>).cpu_usage, { total_usage: 2_000_000, usage_in_kernelmode: 500_000, usage_in_usermode: 1_500_000 });
  assert.deepEqual(s.memory_stats, { usage: 5242880, stats: { anon: 100, inactive_file: 1048576 }, limit: 67108864 });
  assert.deepEqual(s.pids_stats, { current: 2, limit: 10 });
  const e = statsEntry(s);
  assert.deepEqual([e.memory, e.memoryLimit, e.blockRead, e.blockWrite], [4 << 20, 64 << 20, 10, 20]);
  assert.equal(s.networks, undefined);
});

test('docker\'s CPU %: container delta over system delta times the CPUs', () => {
  const s = {
    cpu_stats: { cpu_usage: { total_usage: 1_500_000_000 }, system_cpu_usage: 4_000_000_000, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 1_000_000_000 }, system_cpu_usage: 2_000_000_000 },
  };
  assert.equal(cpuPercent(s), 50);
  const row = statsRow('0123456789abcdef', '/web', statsEntry({ ...s, memory_stats: { usage: 1536 * 1024, limit: 2 * 1024 ** 3 }, pids_stats: { current: 4 } }), true);
  assert.deepEqual(row, {
    ID: '0123456789ab', Container: '0123456789ab', Name: 'web', CPUPerc: '50.00%', MemUsage: '1.5MiB / 2GiB',
    MemPerc: '0.07%', NetIO: '0B / 0B', BlockIO: '0B / 0B', PIDs: '4',
  });
});
