/**
 * Resource limits and security options, observed from inside the container (cgroup files as
 * the container sees them, ulimits, capabilities, seccomp, namespaces) on this host's cgroups.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readlinkSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { engineForFile, collect, runToExit } from '../../support/engine.js';
import { detectCgroupVersion } from '../../../src/runtime/index.js';

const t = engineForFile();

type Json = Record<string, unknown>;
const v1 = detectCgroupVersion() === 1;

const run = (body: Json, opts: { keep?: boolean } = {}) => runToExit(t, body, opts);

/** A cgroup file as the container sees it (v1: /sys/fs/cgroup/<controller>/<file>; v2: /sys/fs/cgroup/<file>). */
const cg = (v1Path: string, v2Path: string): string => (v1 ? `/sys/fs/cgroup/${v1Path}` : `/sys/fs/cgroup/${v2Path}`);

test('memory, cpu and pids limits are what the container sees in its cgroup', async () => {
  const files = [
    cg('memory/memory.limit_in_bytes', 'memory.max'),
    cg('memory/memory.soft_limit_in_bytes', 'memory.low'),
    cg('cpu/cpu.cfs_quota_us', 'cpu.max'),
    cg('cpu/cpu.shares', 'cpu.weight'),
    cg('cpuset/cpuset.cpus', 'cpuset.cpus'),
    cg('pids/pids.max', 'pids.max'),
  ];
  const r = await run({
    Cmd: ['cat', ...files],
    HostConfig: { Memory: 64 << 20, MemoryReservation: 32 << 20, NanoCpus: 5e8, CpuShares: 512, CpusetCpus: '0', PidsLimit: 50 },
  });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  if (v1) assert.deepEqual(lines, [String(64 << 20), String(32 << 20), '50000', '512', '0', '50']);
  else assert.deepEqual([lines[0], lines[2], lines[4], lines[5]], [String(64 << 20), '50000 100000', '0', '50']);
});

test('--memory-swap and --oom-kill-disable reach the memory cgroup', { skip: !v1 && 'cgroup v1 files' }, async () => {
  const r = await run({
    Cmd: ['cat', '/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes', '/sys/fs/cgroup/memory/memory.oom_control'],
    HostConfig: { Memory: 32 << 20, MemorySwap: 48 << 20, OomKillDisable: true },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^${48 << 20}\\n`));
  assert.match(r.stdout, /oom_kill_disable 1/);
});

test('writing past --memory gets the process OOM-killed: exit 137, State.OOMKilled, an oom event', async () => {
  const events: string[] = [];
  const off = (t.engine as unknown as { events: { subscribe(l: (e: { Action: string; Actor: { ID: string } }) => void): () => void } })
    .events.subscribe((e) => events.push(`${e.Action} ${e.Actor.ID}`));
  try {
    const r = await run({ Cmd: ['sh', '-c', 'tail /dev/zero'], HostConfig: { Memory: 16 << 20, MemorySwap: 16 << 20 } }, { keep: true });
    assert.equal(r.code, 137);
    const state = (await t.engine.containers.inspect(r.id)).State as Json;
    assert.equal(state.OOMKilled, true);
    assert.equal(state.ExitCode, 137);
    assert.ok(events.includes(`oom ${r.id}`), events.join(', '));
    await t.engine.containers.remove(r.id, {});
  } finally {
    off();
  }
});

test('with --pids-limit 10 the 11th process cannot start', async () => {
  // The container's sh and a child sh are 2 of the 10: the child starts 8 sleeps, then its fork
  // of the 11th process fails (and ash gives up). Counting needs no process: builtins only.
  const r = await run({
    Cmd: ['sh', '-c', 'sh -c \'i=0; while [ $i -lt 12 ]; do sleep 30 & i=$((i+1)); echo $i > /tmp/n; done\'; read n < /tmp/n; echo started $n'],
    HostConfig: { PidsLimit: 10 },
  });
  assert.equal(r.stdout, 'started 8\n', r.stderr);
  assert.match(r.stderr, /can't fork|Resource temporarily unavailable/);
});

test('ulimits, oom score, shm size, sysctls and extra groups are what the process gets', async () => {
  const r = await run({
    Cmd: ['sh', '-c', 'ulimit -n; ulimit -Hn; cat /proc/self/oom_score_adj; grep " /dev/shm " /proc/mounts; cat /proc/sys/net/ipv4/ip_forward; id -G'],
    User: '1001',
    HostConfig: {
      Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }], OomScoreAdj: 500, ShmSize: 8 << 20,
      Sysctls: { 'net.ipv4.ip_forward': '1' }, GroupAdd: ['4242'],
    },
  });
  assert.equal(r.code, 0, r.stderr);
  const [soft, hard, oom, shm, fwd, groups] = r.stdout.trim().split('\n');
  assert.deepEqual([soft, hard, oom, fwd], ['1024', '2048', '500', '1']);
  assert.match(shm ?? '', /size=8192k/);
  assert.match(groups ?? '', /\b4242\b/);
});

test('with --cap-drop ALL chown fails; by default it works; --cap-add puts one back', async () => {
  const cmd = ['sh', '-c', 'touch /f && chown 1001 /f && echo chowned'];
  const dflt = await run({ Cmd: cmd });
  assert.equal(dflt.stdout, 'chowned\n');
  const dropped = await run({ Cmd: cmd, HostConfig: { CapDrop: ['ALL'] } });
  assert.notEqual(dropped.code, 0);
  assert.match(dropped.stderr, /Operation not permitted/);
  const back = await run({ Cmd: cmd, HostConfig: { CapDrop: ['ALL'], CapAdd: ['CHOWN'] } });
  assert.equal(back.stdout, 'chowned\n');
  const caps = await run({ Cmd: ['grep', 'CapEff', '/proc/self/status'], HostConfig: { CapDrop: ['ALL'] } });
  assert.match(caps.stdout, /CapEff:\s+0000000000000000/);
});

test('a syscall the default seccomp profile blocks fails with EPERM and works with seccomp=unconfined', async () => {
  // unshare(CLONE_NEWUSER) needs no capability, so only seccomp decides.
  const cmd = ['unshare', '-U', 'echo', 'inside'];
  const confined = await run({ Cmd: cmd });
  assert.notEqual(confined.code, 0);
  assert.match(confined.stderr, /Operation not permitted/);
  const free = await run({ Cmd: cmd, HostConfig: { SecurityOpt: ['seccomp=unconfined'] } });
  assert.equal(free.stdout, 'inside\n', free.stderr);
  // A custom profile (Docker's format, sent as JSON like the CLI does) that blocks mkdir.
  const profile = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
  const custom = await run({ Cmd: ['mkdir', '/x'], HostConfig: { SecurityOpt: [`seccomp=${JSON.stringify(profile)}`] } });
  assert.notEqual(custom.code, 0);
  assert.match(custom.stderr, /Operation not permitted/);
});

test('no-new-privileges shows in the process status', async () => {
  const r = await run({ Cmd: ['grep', 'NoNewPrivs', '/proc/self/status'], HostConfig: { SecurityOpt: ['no-new-privileges'] } });
  assert.match(r.stdout, /NoNewPrivs:\s+1/);
});

test('masked and read-only paths are in place unless --privileged, which also gets every capability and host device', async () => {
  const plain = await run({ Cmd: ['sh', '-c', 'cat /proc/interrupts | wc -c; echo 1 > /proc/sys/kernel/domainname || echo ro; ls /dev'] });
  assert.match(plain.stdout, /^0\nro\n/);
  const priv = await run({ Cmd: ['sh', '-c', 'grep CapEff /proc/self/status; ls /dev'], HostConfig: { Privileged: true } });
  // Every capability hakod itself holds (its bounding set), as docker gives all it can.
  const bnd = /CapBnd:\s+(\w+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  assert.match(priv.stdout, new RegExp(`CapEff:\\s+${bnd}`));
  const hostDevs = ['loop0', 'kmsg', 'mem'].filter((d) => existsSync(`/dev/${d}`));
  assert.ok(hostDevs.length > 0);
  for (const d of hostDevs) assert.match(priv.stdout, new RegExp(`\\b${d}\\b`));
  assert.doesNotMatch(plain.stdout, /\bkmsg\b/);
});

test('--device makes a host device node in the container', async () => {
  const r = await run({ Cmd: ['sh', '-c', 'echo x > /dev/mynull && ls -l /dev/mynull'], HostConfig: { Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rwm' }] } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^c.* 1, +3 /);
});

test('--uts host, --ipc host and --pid host share the host namespaces; --pid container: joins another container', async () => {
  const hostIpc = readlinkSync('/proc/self/ns/ipc');
  const r = await run({ Cmd: ['sh', '-c', 'hostname; readlink /proc/self/ns/ipc; cat /proc/1/comm'], HostConfig: { UTSMode: 'host', IpcMode: 'host', PidMode: 'host' } });
  const [h, ipc, init] = r.stdout.trim().split('\n');
  assert.equal(h, hostname());
  assert.equal(ipc, hostIpc);
  assert.equal(init, readFileSync('/proc/1/comm', 'utf8').trim());
  const c = t.engine.containers;
  const { Id: target } = await c.create({ Image: 'busybox', Cmd: ['sleep', '30'], HostConfig: { IpcMode: 'shareable' } }, { name: 'nstarget' });
  await c.start(target);
  try {
    const j = await run({ Cmd: ['sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "'], HostConfig: { PidMode: 'container:nstarget', IpcMode: 'container:nstarget' } });
    assert.equal(j.stdout.trim(), 'sleep 30');
  } finally {
    await c.remove(target, { force: true });
  }
});

test('update changes the limits of a running container, as it sees them', async () => {
  const c = t.engine.containers as unknown as { update(ref: string, body: Json): Promise<unknown> } & typeof t.engine.containers;
  const { Id } = await c.create({ Image: 'busybox', Cmd: ['sleep', '30'], HostConfig: { Memory: 32 << 20, PidsLimit: 20 } }, {});
  await c.start(Id);
  try {
    await c.update(Id, { Memory: 64 << 20, MemorySwap: 128 << 20, PidsLimit: 30, NanoCpus: 1e9, CpuShares: 0 });
    const exec = await t.engine.exec.create(Id, { Cmd: ['cat', cg('memory/memory.limit_in_bytes', 'memory.max'), cg('pids/pids.max', 'pids.max')], AttachStdout: true, AttachStderr: true });
    const session = await t.engine.exec.start(exec.Id, {});
    const out = await collect(session!.output);
    assert.deepEqual(out.stdout.trim().split('\n'), [String(64 << 20), '30']);
    const hc = (await c.inspect(Id)).HostConfig as Json;
    assert.equal(hc.Memory, 64 << 20);
    assert.equal(hc.NanoCpus, 1e9);
    await assert.rejects(c.update(Id, { Memory: 1000 }), /Minimum memory limit allowed is 6MB/);
  } finally {
    await c.remove(Id, { force: true });
  }
});

test('bad run options fail at create with a clear message and create nothing', async () => {
  const before = (await t.engine.containers.list({ all: true })).length;
  const cases: Array<[Json, RegExp]> = [
    [{ Memory: 1000 }, /Minimum memory limit allowed is 6MB/],
    [{ Memory: 64 << 20, MemorySwap: 32 << 20 }, /memoryswap limit should be larger than memory limit/],
    [{ NanoCpus: 64e9 }, /Range of CPUs is from 0.01 to/],
    [{ CpusetCpus: '0-63' }, /Requested CPUs are not available/],
    [{ CapAdd: ['NOT_A_CAP'] }, /invalid capability "NOT_A_CAP"/],
    [{ SecurityOpt: ['seccomp={not json'] }, /not valid JSON/],
    [{ SecurityOpt: ['bogus=1'] }, /Invalid --security-opt/],
    [{ Ulimits: [{ Name: 'nofiles', Soft: 1, Hard: 1 }] }, /invalid ulimit "nofiles"/],
    [{ OomScoreAdj: 5000 }, /range for oom score adj is \[-1000, 1000\]/],
    [{ Devices: [{ PathOnHost: '/dev/nope', PathInContainer: '/dev/nope', CgroupPermissions: 'rwm' }] }, /\/dev\/nope/],
    [{ PidMode: 'container:nosuch' }, /No such container: nosuch/],
    [{ IpcMode: 'weird' }, /invalid --ipc mode "weird"/],
  ];
  for (const [hc, message] of cases) {
    await assert.rejects(t.engine.containers.create({ Image: 'busybox', Cmd: ['true'], HostConfig: hc }, {}), message);
  }
  assert.equal((await t.engine.containers.list({ all: true })).length, before);
});

test('inspect shows HostConfig with docker\'s defaults; systempaths=unconfined unmasks /proc', async () => {
  const c = t.engine.containers;
  const { Id } = await c.create({ Image: 'busybox', Cmd: ['true'], HostConfig: { Memory: 64 << 20 } }, {});
  const hc = (await c.inspect(Id)).HostConfig as Json;
  assert.equal(hc.Memory, 64 << 20);
  assert.equal(hc.IpcMode, 'private');
  assert.equal(hc.CgroupnsMode, v1 ? 'host' : 'private');
  assert.deepEqual(hc.Ulimits, []);
  assert.equal(hc.PidsLimit, null);
  assert.ok((hc.MaskedPaths as string[]).includes('/proc/interrupts'));
  await c.remove(Id, {});
  const r = await run({ Cmd: ['sh', '-c', 'head -c 1 /proc/interrupts | wc -c'], HostConfig: { Privileged: false, SecurityOpt: ['systempaths=unconfined'], MaskedPaths: [], ReadonlyPaths: [] } });
  assert.equal(r.stdout.trim(), '1', r.stderr);
});
