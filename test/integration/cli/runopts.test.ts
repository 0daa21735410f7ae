/** `hako volume …`, `hako stats`, `hako update` and `--security-opt seccomp=FILE` against a real hakod. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startHakod, type Hakod, type RunResult } from '../../support/hakod.js';

function ok(r: RunResult): string {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

describe('hako run options', () => {
  let d: Hakod;
  const work = mkdtempSync(join(tmpdir(), 'hako-cli-runopts-'));
  before(async () => {
    d = await startHakod();
  });
  after(async () => {
    try { await d?.stop(); } finally { rmSync(work, { recursive: true, force: true }); }
  });

  it('hako volume create, ls, inspect --format, rm, prune', async () => {
    assert.equal(ok(await d.hako(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=1m', '--label', 'k=v', 'cache'])), 'cache\n');
    assert.equal(ok(await d.hako(['volume', 'create'])).trim().length, 64);
    const table = ok(await d.hako(['volume', 'ls', '--filter', 'label=k']));
    assert.equal(table, 'DRIVER    VOLUME NAME\nlocal     cache\n');
    assert.equal(ok(await d.hako(['volume', 'inspect', '-f', '{{.Driver}} {{.Options.type}} {{.Labels.k}}', 'cache'])), 'local tmpfs v\n');
    assert.equal(ok(await d.hako(['run', '--rm', '-v', 'cache:/c', 'busybox', 'sh', '-c', 'grep " /c " /proc/mounts | cut -d" " -f3'])), 'tmpfs\n');
    const rm = await d.hako(['volume', 'rm', 'cache', 'nosuch']);
    assert.equal(rm.code, 1);
    assert.equal(rm.stdout, 'cache\n');
    assert.match(rm.stderr, /no such volume/);
    // An anonymous-by-API volume made by `volume create` is named: prune without -a keeps it.
    assert.match(ok(await d.hako(['volume', 'prune', '-f'])), /^Total reclaimed space: 0B\n$/);
    assert.match(ok(await d.hako(['volume', 'prune', '-a', '-f'])), /Deleted Volumes:\n[0-9a-f]{64}\n/);
  });

  it('hako stats --no-stream and a streamed frame; hako update', async () => {
    ok(await d.hako(['run', '-d', '--name', 'spin', '--cpus', '0.5', 'busybox', 'sh', '-c', 'while :; do :; done']));
    const row = ok(await d.hako(['stats', '--no-stream', '--format', '{{.Name}} {{.CPUPerc}} {{.PIDs}}', 'spin'])).trim().split(' ');
    assert.equal(row[0], 'spin');
    const cpu = Number.parseFloat(row[1]!);
    // Half a CPU of two: about 50% in docker's "100% per CPU" scale.
    assert.ok(cpu > 30 && cpu < 70, `cpu ${cpu}`);
    assert.equal(row[2], '1');
    // Streaming never ends by itself: the runner kills it and reports what it printed so far.
    const streamed = await d.hako(['stats', '--format', '{{.Name}} {{.PIDs}}', 'spin'], { timeoutMs: 2500 }).then(
      (r) => `exited ${r.code}: ${r.stderr}`,
      (e: Error) => e.message,
    );
    assert.match(streamed, /stdout so far: "spin 1\\n/);
    assert.equal(ok(await d.hako(['update', '--cpus', '1.5', '--pids-limit', '7', 'spin'])), 'spin\n');
    assert.equal(ok(await d.hako(['exec', 'spin', 'cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us', '/sys/fs/cgroup/pids/pids.max'])), '150000\n7\n');
    ok(await d.hako(['rm', '-f', 'spin']));
  });

  it('--security-opt seccomp=FILE sends the profile; a file that is not JSON fails in the CLI', async () => {
    const bad = join(work, 'bad.json');
    writeFileSync(bad, 'nope');
    const r = await d.hako(['run', '--rm', '--security-opt', `seccomp=${bad}`, 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /compacting json for seccomp profile \(.*bad\.json\) failed/);
    const good = join(work, 'good.json');
    writeFileSync(good, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }));
    const m = await d.hako(['run', '--rm', '--security-opt', `seccomp=${good}`, 'busybox', 'mkdir', '/x']);
    assert.notEqual(m.code, 0);
    assert.match(m.stderr, /Operation not permitted/);
    const mem = await d.hako(['run', '--rm', '--memory', '10x', 'busybox', 'true']);
    assert.equal(mem.code, 125);
    assert.match(mem.stderr, /10x/);
  });
});
