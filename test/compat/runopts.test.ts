/**
 * The docker CLI against hakod for issue #3: volumes, bind mounts, resource limits, OOM, stats,
 * update and security options, each observed from inside the container or through the CLI.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, statSync, rmSync, chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startHakod, type Hakod } from '../support/hakod.js';
import { ok, exits, fails } from './expect.js';

describe('docker CLI run options against hakod', () => {
  let d: Hakod;
  const work = mkdtempSync(join(tmpdir(), 'hako-compat-runopts-'));
  before(async () => {
    d = await startHakod();
  });
  after(async () => {
    try { await d?.stop(); } finally { rmSync(work, { recursive: true, force: true }); }
  });

  it('docker volume create/ls/inspect; data in a named volume outlives docker rm; a used volume cannot be removed', async () => {
    assert.equal(ok(await d.docker(['volume', 'create', '--label', 'app=web', 'data']), d), 'data\n');
    ok(await d.docker(['run', '--name', 'writer', '-v', 'data:/data', 'busybox', 'sh', '-c', 'echo persisted > /data/f']), d);
    fails(await d.docker(['volume', 'rm', 'data']), /volume is in use/, d);
    ok(await d.docker(['rm', 'writer']), d);
    assert.equal(ok(await d.docker(['run', '--rm', '-v', 'data:/data:ro', 'busybox', 'cat', '/data/f']), d), 'persisted\n');
    const ls = ok(await d.docker(['volume', 'ls', '--filter', 'label=app=web']), d);
    assert.match(ls, /^DRIVER\s+VOLUME NAME\nlocal\s+data\n$/);
    const info = JSON.parse(ok(await d.docker(['volume', 'inspect', 'data']), d)) as Array<Record<string, unknown>>;
    assert.equal(info[0]!.Mountpoint, join(d.dataRoot, 'volumes', 'data', '_data'));
    assert.deepEqual(info[0]!.Labels, { app: 'web' });
    assert.equal(ok(await d.docker(['volume', 'rm', 'data']), d), 'data\n');
    fails(await d.docker(['volume', 'inspect', 'data']), /no such volume/i, d);
  });

  it('docker run --rm removes the anonymous volume of -v /path; docker volume prune -a removes unused named ones', async () => {
    ok(await d.docker(['volume', 'create', 'unused']), d);
    ok(await d.docker(['run', '--rm', '-v', '/scratch', 'busybox', 'touch', '/scratch/x']), d);
    assert.equal(ok(await d.docker(['volume', 'ls', '-q']), d), 'unused\n');
    const out = ok(await d.docker(['volume', 'prune', '-a', '-f']), d);
    assert.match(out, /Deleted Volumes:\nunused\n/);
    assert.equal(ok(await d.docker(['volume', 'ls', '-q']), d), '');
  });

  it('docker run --user 1001 -v writes files owned by 1001 on the host; inspect shows the bind in Mounts', async () => {
    const dir = join(work, 'bind');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    ok(await d.docker(['run', '--name', 'binder', '--user', '1001', '-v', `${dir}:/out`, 'busybox', 'touch', '/out/made']), d);
    assert.equal(statSync(join(dir, 'made')).uid, 1001);
    const mounts = JSON.parse(ok(await d.docker(['inspect', '-f', '{{json .Mounts}}', 'binder']), d));
    assert.deepEqual(mounts, [{ Type: 'bind', Source: dir, Destination: '/out', Mode: '', RW: true, Propagation: 'rprivate' }]);
    ok(await d.docker(['rm', 'binder']), d);
  });

  it('docker run --read-only --tmpfs: writes fail except on the tmpfs', async () => {
    const r = await d.docker(['run', '--rm', '--read-only', '--tmpfs', '/tmp:size=1m', 'busybox', 'sh', '-c', 'echo ok > /tmp/a && cat /tmp/a && touch /b']);
    assert.equal(r.stdout, 'ok\n');
    assert.match(r.stderr, /Read-only file system/);
    assert.notEqual(r.code, 0);
  });

  it('docker run --memory: past the limit the process is OOM-killed, exit 137, inspect says OOMKilled', async () => {
    const r = await d.docker(['run', '--name', 'hog', '--memory', '16m', '--memory-swap', '16m', 'busybox', 'tail', '/dev/zero'], { timeoutMs: 30_000 });
    exits(r, 137, undefined, d);
    assert.equal(ok(await d.docker(['inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}} {{.HostConfig.Memory}}', 'hog']), d), 'true 137 16777216\n');
    ok(await d.docker(['rm', 'hog']), d);
  });

  it('docker run --pids-limit, --cap-drop ALL, --security-opt seccomp act inside the container', async () => {
    const pids = await d.docker(['run', '--rm', '--pids-limit', '10', 'busybox', 'sh', '-c', 'sh -c \'i=0; while [ $i -lt 12 ]; do sleep 30 & i=$((i+1)); echo $i > /tmp/n; done\'; read n < /tmp/n; echo started $n']);
    assert.equal(pids.stdout, 'started 8\n', pids.stderr);
    fails(await d.docker(['run', '--rm', '--cap-drop', 'ALL', 'busybox', 'chown', '1', '/tmp']), /Operation not permitted/, d);
    fails(await d.docker(['run', '--rm', 'busybox', 'unshare', '-U', 'true']), /Operation not permitted/, d);
    ok(await d.docker(['run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', 'unshare', '-U', 'true']), d);
    const profile = join(work, 'no-mkdir.json');
    writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }));
    fails(await d.docker(['run', '--rm', '--security-opt', `seccomp=${profile}`, 'busybox', 'mkdir', '/x']), /Operation not permitted/, d);
  });

  it('docker stats --no-stream shows CPU, memory and PIDs; docker update changes a running container', async () => {
    ok(await d.docker(['run', '-d', '--name', 'busy', '--memory', '64m', 'busybox', 'sh', '-c', 'while :; do :; done']), d);
    const row = ok(await d.docker(['stats', '--no-stream', '--format', '{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.PIDs}}', 'busy']), d).trim();
    const [name, cpu, mem, pidCount] = row.split('|');
    assert.equal(name, 'busy');
    assert.ok(Number.parseFloat(cpu!) > 30, row);
    assert.match(mem!, / \/ 64MiB$/);
    assert.equal(pidCount, '1');
    const table = ok(await d.docker(['stats', '--no-stream']), d);
    assert.match(table, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS\n/);
    ok(await d.docker(['update', '--memory', '128m', '--memory-swap', '256m', '--cpus', '0.5', 'busy']), d);
    assert.equal(ok(await d.docker(['exec', 'busy', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us']), d), `${128 << 20}\n50000\n`);
    assert.equal(ok(await d.docker(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}', 'busy']), d), `${128 << 20} 500000000\n`);
    ok(await d.docker(['rm', '-f', 'busy']), d);
  });

  it('docker run --ipc container:x shares a shareable x\'s /dev/shm; a private x is refused with docker\'s message', async () => {
    ok(await d.docker(['run', '-d', '--name', 'shm-donor', '--ipc', 'shareable', 'busybox', 'sleep', '60']), d);
    ok(await d.docker(['exec', 'shm-donor', 'sh', '-c', 'echo shared > /dev/shm/note']), d);
    assert.equal(ok(await d.docker(['run', '--rm', '--ipc', 'container:shm-donor', 'busybox', 'cat', '/dev/shm/note']), d), 'shared\n');
    ok(await d.docker(['run', '-d', '--name', 'shm-private', 'busybox', 'sleep', '60']), d);
    const id = ok(await d.docker(['inspect', '-f', '{{.Id}}', 'shm-private']), d).trim();
    fails(await d.docker(['run', '--name', 'shm-joiner', '--ipc', 'container:shm-private', 'busybox', 'true']),
      new RegExp(`Error response from daemon: failed to join IPC namespace: container ${id}: non-shareable IPC \\(hint: use IpcMode:shareable for the donor container\\)`), d);
    assert.equal(ok(await d.docker(['run', '--rm', '--ipc', 'none', 'busybox', 'sh', '-c', 'ls -d /dev/shm || echo none']), d), 'none\n');
    ok(await d.docker(['rm', '-f', 'shm-donor', 'shm-private', 'shm-joiner']), d);
  });

  it('bad input fails with a clear message and creates nothing', async () => {
    const before = ok(await d.docker(['ps', '-aq']), d);
    fails(await d.docker(['run', '--memory', '10x', 'busybox', 'true']), /invalid argument "10x" for "-m, --memory" flag|invalid size: '10x'/, d);
    fails(await d.docker(['run', '--cap-add', 'NOT_A_CAP', 'busybox', 'true']), /invalid capability|unknown capability/i, d);
    const bad = join(work, 'bad.json');
    writeFileSync(bad, '{not json');
    fails(await d.docker(['run', '--security-opt', `seccomp=${bad}`, 'busybox', 'true']), /seccomp/, d);
    fails(await d.docker(['run', '--mount', `type=bind,source=${join(work, 'missing')},target=/x`, 'busybox', 'true']), /bind source path does not exist/, d);
    fails(await d.docker(['volume', 'create', '-o', 'colour=red', 'vol1']), /invalid option: "colour"/, d);
    fails(await d.docker(['run', '-v', 'rel/dir:/x', 'busybox', 'true']), /invalid characters for a local volume name/, d);
    assert.equal(ok(await d.docker(['ps', '-aq']), d), before);
    assert.equal(ok(await d.docker(['volume', 'ls', '-q']), d), '');
  });
});
