import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveUser, startFailureExitCode } from '../../../src/runtime/index.js';
import { resolveInRoot as secureJoin } from '../../../src/storage/index.js';
import { InvalidArgument } from '../../../src/errdefs/index.js';

function rootfs(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hako-user-'));
  mkdirSync(join(dir, 'etc'));
  writeFileSync(join(dir, 'etc/passwd'), [
    'root:x:0:0:root:/root:/bin/sh',
    'app:x:1001:1001:app:/home/app:/bin/sh',
    '# a comment',
    'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
  ].join('\n') + '\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\nwheel:x:10:root,app\napp:x:1001:\ndocker:x:999:app\nnogroup:x:65534:\n');
  return dir;
}

test('an empty user is root with root\'s supplementary groups', async () => {
  const dir = rootfs();
  try {
    assert.deepEqual(await resolveUser(dir, ''), { uid: 0, gid: 0, additionalGids: [10], home: '/root' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a user name gives its uid, primary gid, groups and home', async () => {
  const dir = rootfs();
  try {
    assert.deepEqual(await resolveUser(dir, 'app'), { uid: 1001, gid: 1001, additionalGids: [10, 999], home: '/home/app' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a numeric uid unknown to passwd runs with gid 0 and HOME /', async () => {
  const dir = rootfs();
  try {
    assert.deepEqual(await resolveUser(dir, '4242'), { uid: 4242, gid: 0, additionalGids: [], home: '/' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('user:group takes the group by name or number and no supplementary groups', async () => {
  const dir = rootfs();
  try {
    assert.deepEqual(await resolveUser(dir, 'app:docker'), { uid: 1001, gid: 999, additionalGids: [], home: '/home/app' });
    assert.deepEqual(await resolveUser(dir, '1001:50'), { uid: 1001, gid: 50, additionalGids: [], home: '/home/app' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('group-add values are appended', async () => {
  const dir = rootfs();
  try {
    const u = await resolveUser(dir, 'nobody', ['docker', '77']);
    assert.deepEqual(u.additionalGids, [999, 77]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unknown user name fails with Docker\'s message', async () => {
  const dir = rootfs();
  try {
    await assert.rejects(resolveUser(dir, 'ghost'), (e: unknown) =>
      e instanceof InvalidArgument && e.message === 'unable to find user ghost: no matching entries in passwd file');
    await assert.rejects(resolveUser(dir, 'app:ghosts'), /unable to find group ghosts: no matching entries in group file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an image without /etc/passwd still runs numeric users', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hako-user-'));
  try {
    assert.deepEqual(await resolveUser(dir, '1000:1000'), { uid: 1000, gid: 1000, additionalGids: [], home: '/' });
    await assert.rejects(resolveUser(dir, 'app'), /no matching entries in passwd file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a symlinked /etc/passwd pointing at the host\'s is read inside the rootfs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hako-user-'));
  try {
    mkdirSync(join(dir, 'etc'));
    mkdirSync(join(dir, 'real'));
    writeFileSync(join(dir, 'real/passwd'), 'inside:x:7:7::/in:/bin/sh\n');
    // Absolute and climbing links both resolve against the rootfs, never the host.
    // a host file outside the rootfs that knows "root": followed naively, the lookup would succeed
    const outside = mkdtempSync(join(tmpdir(), 'hako-host-'));
    try {
      writeFileSync(join(outside, 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
      symlinkSync(join(outside, 'passwd'), join(dir, 'etc/passwd'));
      await assert.rejects(resolveUser(dir, 'root'), /no matching entries in passwd file/);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
    rmSync(join(dir, 'etc/passwd'));
    symlinkSync('../../../../../../real/passwd', join(dir, 'etc/passwd'));
    assert.equal((await resolveUser(dir, 'inside')).uid, 7);
    assert.equal(await secureJoin(dir, '/etc/passwd'), join(dir, 'real/passwd'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a symlink loop is refused instead of hanging', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hako-user-'));
  try {
    mkdirSync(join(dir, 'etc'));
    symlinkSync('/etc/passwd', join(dir, 'etc/passwd'));
    await assert.rejects(resolveUser(dir, 'x'), /too many levels of symbolic links/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('runc start failures map to Docker\'s exit codes', () => {
  assert.equal(startFailureExitCode('exec: "foo": executable file not found in $PATH'), 127);
  assert.equal(startFailureExitCode('exec: "/x": stat /x: no such file or directory'), 127);
  assert.equal(startFailureExitCode('exec: "/etc/passwd": permission denied'), 126);
  assert.equal(startFailureExitCode('exec: "/tmp": is a directory'), 126);
  assert.equal(startFailureExitCode('cgroup: something else'), null);
});
