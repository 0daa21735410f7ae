import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, chmodSync, rmSync, statSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { engineForFile, runToExit } from '../../support/engine.js';

const t = engineForFile();
let hostDir: string;
before(() => {
  hostDir = mkdtempSync(join(tmpdir(), 'hako-vol-'));
});
after(() => {
  rmSync(hostDir, { recursive: true, force: true });
});

type Json = Record<string, unknown>;

/** Runs a container to its exit and keeps it: the tests remove it (and its volumes) themselves. */
const run = (body: Json, name?: string) => runToExit(t, body, { name, keep: true });

test('data written to a named volume outlives the container and is there in the next one', async () => {
  const first = await run({ Cmd: ['sh', '-c', 'echo kept > /data/file'], HostConfig: { Binds: ['keep:/data'] } });
  assert.equal(first.code, 0);
  await assert.rejects(t.engine.volumes.remove('keep'), /volume is in use/);
  await t.engine.containers.remove(first.id, { volumes: true });
  const second = await run({ Cmd: ['cat', '/data/file'], HostConfig: { Binds: ['keep:/data:ro'] } });
  assert.equal(second.stdout, 'kept\n');
  const info = await t.engine.containers.inspect(second.id);
  const mounts = info.Mounts as Json[];
  assert.deepEqual(mounts[0], {
    Type: 'volume', Name: 'keep', Source: join(t.dataRoot, 'volumes', 'keep', '_data'), Destination: '/data',
    Driver: 'local', Mode: 'ro', RW: false, Propagation: '',
  });
  await t.engine.containers.remove(second.id, {});
  await t.engine.volumes.remove('keep');
  await assert.rejects(t.engine.volumes.inspect('keep'), /no such volume/);
});

test('a new empty volume gets a copy of the image content at its mount point', async () => {
  const r = await run({ Cmd: ['ls', '/etc'], HostConfig: { Binds: ['etcvol:/etc'] } });
  assert.match(r.stdout, /passwd/);
  assert.ok(existsSync(join(t.dataRoot, 'volumes', 'etcvol', '_data', 'group')));
  // nocopy: nothing is copied.
  const n = await run({ Cmd: ['ls', '/etc'], HostConfig: { Mounts: [{ Type: 'volume', Source: 'bare', Target: '/etc', VolumeOptions: { NoCopy: true } }] } });
  assert.equal(n.stdout.trim(), 'hostname\nhosts\nresolv.conf'.split('\n').sort().join('\n'));
  for (const id of [r.id, n.id]) await t.engine.containers.remove(id, {});
  await t.engine.volumes.remove('etcvol');
  await t.engine.volumes.remove('bare');
});

test('an image VOLUME gets an anonymous volume; rm -v removes it, rm alone keeps it', async () => {
  const a = await run({ Cmd: ['sh', '-c', 'echo x > /cache/f'], Volumes: { '/cache': {} } });
  const name = String(((await t.engine.containers.inspect(a.id)).Mounts as Json[])[0]?.Name);
  assert.match(name, /^[0-9a-f]{64}$/);
  const listed = await t.engine.volumes.list({ filters: { dangling: ['false'] } });
  assert.ok(listed.Volumes.some((v) => v.Name === name));
  await t.engine.containers.remove(a.id, {});
  await t.engine.volumes.inspect(name); // still there
  const b = await run({ Cmd: ['true'], Volumes: { '/cache': {} } });
  const nameB = String(((await t.engine.containers.inspect(b.id)).Mounts as Json[])[0]?.Name);
  await t.engine.containers.remove(b.id, { volumes: true });
  await assert.rejects(t.engine.volumes.inspect(nameB), /no such volume/);
  const pruned = await t.engine.volumes.prune({});
  assert.deepEqual(pruned.VolumesDeleted, [name]);
});

test('--volumes-from shares the volumes of another container, read-only when asked', async () => {
  const src = await run({ Cmd: ['sh', '-c', 'echo shared > /d/f'], HostConfig: { Binds: ['sharedvol:/d'] } }, 'vsrc');
  const r = await run({ Cmd: ['sh', '-c', 'cat /d/f; echo no > /d/g'], HostConfig: { VolumesFrom: ['vsrc:ro'] } });
  assert.equal(r.stdout, 'shared\n');
  assert.match(r.stderr, /Read-only file system/);
  assert.notEqual(r.code, 0);
  for (const id of [r.id, src.id]) await t.engine.containers.remove(id, {});
  await t.engine.volumes.remove('sharedvol');
});

test('bind mounts: ro refuses writes, a missing -v source is created, --user 1001 writes files owned by 1001', async () => {
  const ro = await run({ Cmd: ['sh', '-c', 'touch /h/x'], HostConfig: { Binds: [`${hostDir}:/h:ro`] } });
  assert.notEqual(ro.code, 0);
  assert.match(ro.stderr, /Read-only file system/);
  const created = join(hostDir, 'made', 'by', 'v');
  // hostDir is root's 0700: user 1001 may not write there, as on the host.
  const u = await run({ Cmd: ['sh', '-c', 'touch /h/mine && id -u'], User: '1001', HostConfig: { Binds: [`${hostDir}:/h`, `${created}:/m`] } });
  assert.ok(statSync(created).isDirectory());
  assert.equal(u.code, 1, u.stderr);
  assert.match(u.stderr, /Permission denied/);
  const open = join(hostDir, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  const w = await run({ Cmd: ['sh', '-c', 'touch /h/mine && id -u'], User: '1001', HostConfig: { Mounts: [{ Type: 'bind', Source: open, Target: '/h' }] } });
  assert.equal(w.stdout, '1001\n', w.stderr);
  assert.equal(statSync(join(open, 'mine')).uid, 1001);
  for (const id of [ro.id, u.id, w.id]) await t.engine.containers.remove(id, {});
});

test('--read-only rejects writes to the root but not to a --tmpfs', async () => {
  const r = await run({ Cmd: ['sh', '-c', 'echo a > /tmp/ok && cat /tmp/ok && echo b > /root/no'], HostConfig: { ReadonlyRootfs: true, Tmpfs: { '/tmp': 'size=1m' } } });
  assert.equal(r.stdout, 'a\n');
  assert.match(r.stderr, /Read-only file system/);
  assert.notEqual(r.code, 0);
  await t.engine.containers.remove(r.id, {});
});

test('a tmpfs volume from local driver options is a tmpfs in the container', async () => {
  await t.engine.volumes.create({ Name: 'ram', DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=2m' }, Labels: { tier: 'fast' } });
  const r = await run({ Cmd: ['sh', '-c', 'grep " /r " /proc/mounts'], HostConfig: { Binds: ['ram:/r'] } });
  assert.match(r.stdout, /^tmpfs \/r tmpfs .*size=2048k/);
  const v = await t.engine.volumes.inspect('ram');
  assert.deepEqual(v.Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=2m' });
  assert.deepEqual((await t.engine.volumes.list({ filters: { label: ['tier=fast'] } })).Volumes.map((x) => x.Name), ['ram']);
  // Unmounted on the host after the container stopped.
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(join(t.dataRoot, 'volumes', 'ram')));
  await t.engine.containers.remove(r.id, {});
  await t.engine.volumes.remove('ram');
});

test('bad mount input fails with a clear message and creates nothing', async () => {
  const before = (await t.engine.containers.list({ all: true })).length;
  const cases: Array<[Json, RegExp]> = [
    [{ Binds: ['rel/path:/x'] }, /includes invalid characters for a local volume name.*absolute path/],
    [{ Binds: ['/a:relative'] }, /mount path must be absolute/],
    [{ Binds: ['/a:/b:rx'] }, /invalid mode: rx/],
    [{ Mounts: [{ Type: 'bind', Source: join(hostDir, 'nope'), Target: '/x' }] }, /bind source path does not exist/],
    [{ Mounts: [{ Type: 'volume', Source: 'optvol', Target: '/x', VolumeOptions: { DriverConfig: { Options: { colour: 'red' } } } }] }, /invalid option: "colour"/],
    [{ Binds: ['okvol:/x'], Mounts: [{ Type: 'tmpfs', Target: '/x' }] }, /Duplicate mount point: \/x/],
    [{ Mounts: [{ Type: 'nfs', Target: '/x' }] }, /mount type unknown/],
  ];
  for (const [hc, message] of cases) {
    await assert.rejects(t.engine.containers.create({ Image: 'busybox', Cmd: ['true'], HostConfig: hc }, {}), message);
  }
  await assert.rejects(t.engine.volumes.create({ Name: 'v1', DriverOpts: { foo: 'bar' } }), /invalid option: "foo"/);
  await assert.rejects(t.engine.volumes.create({ Name: 'v2', DriverOpts: { type: 'tmpfs' } }), /missing required option: "device"/);
  assert.equal((await t.engine.containers.list({ all: true })).length, before);
  assert.deepEqual((await t.engine.volumes.list({})).Volumes, []);
});
