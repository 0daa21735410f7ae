import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resourcesOf, resourceUpdate, parseCpuList } from '../../../src/engine/containers/resources.js';

const v1 = { cpus: 2, cgroupVersion: 1 as const };
const v2 = { cpus: 2, cgroupVersion: 2 as const };

test('docker run resource flags become OCI resources', () => {
  assert.deepEqual(resourcesOf({
    Memory: 64 << 20, MemoryReservation: 32 << 20, OomKillDisable: true, MemorySwappiness: 10,
    NanoCpus: 1.5e9, CpuShares: 512, CpusetCpus: '0-1', CpusetMems: '0', PidsLimit: 100, BlkioWeight: 300,
  }, v1), {
    memory: { limit: 64 << 20, swap: 128 << 20, reservation: 32 << 20, disableOOMKiller: true, swappiness: 10 },
    cpu: { period: 100000, quota: 150000, shares: 512, cpus: '0-1', mems: '0' },
    pids: { limit: 100 },
    blockIO: { weight: 300 },
  });
  // cgroup v2 has no swappiness; runc converts the rest.
  assert.deepEqual(resourcesOf({ Memory: 64 << 20, MemorySwap: -1, MemorySwappiness: 10 }, v2), { memory: { limit: 64 << 20, swap: -1 } });
  assert.deepEqual(resourcesOf({ CpuPeriod: 50000, CpuQuota: 25000, PidsLimit: -1 }, v1), { cpu: { period: 50000, quota: 25000 } });
  assert.deepEqual(resourcesOf({}, v1), {});
});

test('bad values are refused with the daemon\'s messages', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ Memory: 1024 }, /Minimum memory limit allowed is 6MB/],
    [{ MemorySwap: 64 << 20 }, /always set the Memory limit when using Memoryswap/],
    [{ Memory: 64 << 20, MemorySwap: 32 << 20 }, /memoryswap limit should be larger than memory limit/],
    [{ Memory: 32 << 20, MemoryReservation: 64 << 20 }, /can not be less than memory reservation/],
    [{ MemorySwappiness: 101 }, /swappiness range is 0-100/],
    [{ NanoCpus: 3e9 }, /Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available/],
    [{ NanoCpus: 1e9, CpuQuota: 50000 }, /Nano CPUs and CPU Quota cannot both be set/],
    [{ CpuPeriod: 10 }, /CPU cfs period can not be less than 1ms/],
    [{ CpusetCpus: '3' }, /Requested CPUs are not available - requested 3, available: 0-1/],
    [{ CpusetCpus: 'a-b' }, /Invalid value a-b for cpuset cpus/],
    [{ BlkioWeight: 5 }, /Range of blkio weight is from 10 to 1000/],
    [{ KernelMemory: 1 << 30 }, /kernel memory/],
    [{ BlkioDeviceReadBps: [{ Path: '/dev/sda', Rate: 1 }] }, /not supported/],
  ];
  for (const [hc, re] of cases) assert.throws(() => resourcesOf(hc, v1), re, JSON.stringify(hc));
});

test('update changes only the fields given non-zero, validated against the merged config', () => {
  const hc = { Memory: 32 << 20, MemorySwap: 64 << 20, CpuShares: 256, NanoCpus: 1e9 };
  const u = resourceUpdate(hc, { Memory: 48 << 20, CpuShares: 0, CpusetCpus: '' }, v1);
  assert.deepEqual(u?.patch, { Memory: 48 << 20 });
  assert.deepEqual(u?.resources.memory, { limit: 48 << 20, swap: 64 << 20 });
  assert.equal(u?.resources.cpu?.shares, 256);
  assert.equal(resourceUpdate(hc, { CpuShares: 0 }, v1), null);
  assert.throws(() => resourceUpdate(hc, { Memory: 128 << 20 }, v1), /update the memoryswap at the same time/);
  const q = resourceUpdate(hc, { CpuQuota: 20000, CpuPeriod: 100000 }, v1);
  assert.deepEqual(q?.resources.cpu, { period: 100000, quota: 20000, shares: 256 });
  assert.deepEqual(parseCpuList('0-2,5', 'x'), [0, 1, 2, 5]);
});
