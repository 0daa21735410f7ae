/**
 * The rest of the engine-core commands through `hako` against a real hakod: what a user types
 * after `run` — kill, restart, pause, top, diff, rename, wait, attach, logs options, tag/rmi,
 * prune, version/info and the ps options.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHakod, type Hakod } from '../../support/hakod.js';
import { ok, exits, fails, eventually } from '../../compat/expect.js';

describe('hako container and image commands', () => {
  let d: Hakod;
  before(async () => {
    d = await startHakod();
  });
  after(async () => {
    await d?.stop();
  });

  it('version and info describe client and server', async () => {
    const v = ok(await d.hako(['version', '--format', '{{.Server.ApiVersion}}']), d);
    assert.equal(v, '1.47\n');
    const info = ok(await d.hako(['info', '--format', '{{.Driver}} {{.OSType}}']), d);
    assert.equal(info, 'overlay2 linux\n');
  });

  it('kill -s sends the signal; restart brings the container back with a new pid', async () => {
    ok(await d.hako(['run', '-d', '--name', 'k1', 'busybox', 'sh', '-c', "trap 'exit 42' USR1; while true; do sleep 0.1; done"]), d);
    ok(await d.hako(['kill', '-s', 'USR1', 'k1']), d);
    assert.equal(ok(await d.hako(['wait', 'k1']), d), '42\n');
    ok(await d.hako(['restart', '-t', '1', 'k1']), d);
    assert.equal(ok(await d.hako(['inspect', '--format', '{{.State.Status}}', 'k1']), d), 'running\n');
    fails(await d.hako(['kill', '-s', 'NOPE', 'k1']), /Invalid signal: NOPE/, d);
    ok(await d.hako(['rm', '-f', 'k1']), d);
    fails(await d.hako(['kill', 'k1']), /No such container: k1/, d);
  });

  it('pause and unpause freeze and thaw; top lists the processes', async () => {
    ok(await d.hako(['run', '-d', '--name', 'p1', 'busybox', 'sleep', '300']), d);
    ok(await d.hako(['pause', 'p1']), d);
    assert.match(ok(await d.hako(['ps', '--filter', 'name=p1', '--format', '{{.Status}}']), d), /\(Paused\)/);
    fails(await d.hako(['pause', 'p1']), /already paused/, d);
    ok(await d.hako(['unpause', 'p1']), d);
    const top = ok(await d.hako(['top', 'p1']), d);
    assert.match(top, /^UID\s+PID\s+PPID/);
    assert.match(top, /sleep 300/);
    ok(await d.hako(['rm', '-f', 'p1']), d);
  });

  it('diff shows what a container changed; rename keeps the container', async () => {
    ok(await d.hako(['run', '--name', 'd1', 'busybox', 'sh', '-c', 'mkdir /data && echo x > /data/f && rm /etc/group']), d);
    const diff = ok(await d.hako(['diff', 'd1']), d).trim().split('\n');
    assert.deepEqual(diff, ['A /data', 'A /data/f', 'C /etc', 'D /etc/group']);
    ok(await d.hako(['rename', 'd1', 'd2']), d);
    assert.equal(ok(await d.hako(['inspect', '--format', '{{.Name}}', 'd2']), d), '/d2\n');
    fails(await d.hako(['inspect', 'd1']), /No such object: d1/, d);
    ok(await d.hako(['rm', 'd2']), d);
  });

  it('logs --tail, --since, -t and -f show what the process wrote', async () => {
    ok(await d.hako(['run', '-d', '--name', 'l1', 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5; do echo line $i; done; echo oops >&2; sleep 1; echo late']), d);
    await eventually(async () => (ok(await d.hako(['logs', 'l1']), d).includes('line 5') ? true : undefined), 'l1 wrote its lines');
    const tail = await d.hako(['logs', '--tail', '2', 'l1']);
    assert.equal(tail.stdout, 'line 5\n');
    assert.equal(tail.stderr, 'oops\n');
    assert.match(ok(await d.hako(['logs', '-t', '--tail', '1', 'l1']), d), /^$|^\d{4}-\d\d-\d\dT[\d:.]+Z line 5\n$/);
    assert.equal(ok(await d.hako(['logs', '--since', '1h', '--until', '2000-01-01T00:00:00Z', 'l1']), d), '');
    const followed = ok(await d.hako(['logs', '-f', 'l1']), d);
    assert.ok(followed.endsWith('line 5\nlate\n'), followed);
    ok(await d.hako(['rm', 'l1']), d);
  });

  it('attach follows a running container and exits with its code', async () => {
    ok(await d.hako(['run', '-d', '--name', 'a1', 'busybox', 'sh', '-c', 'sleep 0.5; echo attached; exit 6']), d);
    exits(await d.hako(['attach', 'a1']), 6, undefined, d);
    ok(await d.hako(['rm', 'a1']), d);
  });

  it('ps options: -n, -l, -s, --no-trunc, table formats and label, ancestor, exited and id filters', async () => {
    ok(await d.hako(['run', '--name', 'f1', '-l', 'tier=db', 'busybox', 'true']), d);
    exits(await d.hako(['run', '--name', 'f2', 'busybox', 'sh', '-c', 'exit 9']), 9, undefined, d);
    assert.equal(ok(await d.hako(['ps', '-l', '--format', '{{.Names}}']), d), 'f2\n');
    assert.equal(ok(await d.hako(['ps', '-n', '2', '--format', '{{.Names}}']), d), 'f2\nf1\n');
    assert.equal(ok(await d.hako(['ps', '-a', '--filter', 'label=tier=db', '--format', '{{.Names}} {{.Label "tier"}}']), d), 'f1 db\n');
    assert.equal(ok(await d.hako(['ps', '-a', '--filter', 'exited=9', '--format', '{{.Names}}']), d), 'f2\n');
    assert.match(ok(await d.hako(['ps', '-a', '--filter', 'ancestor=busybox', '--format', '{{.Names}}']), d), /f1/);
    const id = ok(await d.hako(['inspect', '--format', '{{.Id}}', 'f1']), d).trim();
    assert.equal(ok(await d.hako(['ps', '-aq', '--no-trunc', '--filter', `id=${id.slice(0, 10)}`]), d), `${id}\n`);
    const table = ok(await d.hako(['ps', '-a', '-s', '--filter', 'name=f1', '--format', 'table {{.Names}}\t{{.Size}}']), d);
    assert.match(table, /^NAMES\s+SIZE\nf1\s+\S+B \(virtual \S+B\)\n$/);
    const json = JSON.parse(ok(await d.hako(['ps', '-a', '--filter', 'name=f1', '--format', '{{json .}}']), d)) as { Names: string; State: string };
    assert.equal(json.Names, 'f1');
    assert.equal(json.State, 'exited');
    fails(await d.hako(['ps', '--filter', 'colour=red']), /invalid filter 'colour'/, d);
  });

  it('container prune removes stopped containers only', async () => {
    ok(await d.hako(['run', '-d', '--name', 'keep', 'busybox', 'sleep', '300']), d);
    ok(await d.hako(['run', '--name', 'gone', 'busybox', 'true']), d);
    const out = ok(await d.hako(['container', 'prune', '-f']), d);
    assert.match(out, /Deleted Containers:/);
    assert.match(out, /Total reclaimed space:/);
    const left = ok(await d.hako(['ps', '-a', '--format', '{{.Names}}']), d).trim().split('\n');
    assert.deepEqual(left, ['keep']);
    ok(await d.hako(['rm', '-f', 'keep']), d);
  });

  it('tag, image inspect and rmi: untag first, refuse an image in use, -f only when stopped', async () => {
    ok(await d.hako(['tag', 'busybox', 'mine/box:v1']), d);
    const [id1, id2] = await Promise.all([
      d.hako(['image', 'inspect', '--format', '{{.Id}}', 'busybox']),
      d.hako(['image', 'inspect', '--format', '{{.Id}}', 'mine/box:v1']),
    ]);
    assert.equal(ok(id1, d), ok(id2, d));
    assert.match(ok(await d.hako(['images', '--format', '{{.Repository}}:{{.Tag}}']), d), /^mine\/box:v1$/m);
    fails(await d.hako(['tag', 'busybox', 'Bad:Name']), /invalid reference format/, d);
    ok(await d.hako(['run', '-d', '--name', 'user1', 'mine/box:v1', 'sleep', '300']), d);
    assert.match(ok(await d.hako(['rmi', 'mine/box:v1']), d), /^Untagged: mine\/box:v1$/m);
    ok(await d.hako(['tag', 'busybox', 'mine/box:v1']), d);
    fails(await d.hako(['rmi', '-f', ok(id1, d).trim()]), /cannot be forced.*running container/, d);
    ok(await d.hako(['rm', '-f', 'user1']), d);
    ok(await d.hako(['rmi', 'mine/box:v1']), d);
    fails(await d.hako(['rmi', 'mine/box:v1']), /No such image: mine\/box:v1/, d);
  });
});
