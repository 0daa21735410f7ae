import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, statSync, writeFileSync, readFileSync, existsSync, constants } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { native, MS_NODEV, MS_NOSUID, MS_RDONLY, MS_REMOUNT, MS_BIND, MNT_DETACH } from '../../../src/native/index.js';

function isMountPoint(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === path);
}

test('mknod makes the char 0/0 device overlayfs reads as a whiteout', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hako-native-'));
  try {
    const wh = join(dir, 'deleted');
    native().mknod(wh, constants.S_IFCHR | 0o000, 0, 0);
    const st = statSync(wh);
    assert.ok(st.isCharacterDevice());
    assert.equal(st.rdev, 0);
    assert.equal(st.mode & 0o777, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('trusted.overlay.opaque set with lsetxattr reads back and is listed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hako-native-'));
  try {
    const opaque = join(dir, 'opaque');
    mkdirSync(opaque);
    native().lsetxattr(opaque, 'trusted.overlay.opaque', Buffer.from('y'));
    assert.equal(native().lgetxattr(opaque, 'trusted.overlay.opaque')?.toString(), 'y');
    assert.ok(native().llistxattr(opaque).includes('trusted.overlay.opaque'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mount puts a tmpfs with its options on a directory and umount2 takes it away', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hako-native-'));
  const target = join(dir, 'mnt');
  mkdirSync(target);
  try {
    native().mount('hako-test', target, 'tmpfs', MS_NOSUID | MS_NODEV, 'size=1m,mode=0710');
    assert.ok(isMountPoint(target));
    assert.equal(statSync(target).mode & 0o777, 0o710);
    writeFileSync(join(target, 'f'), 'in tmpfs');
    native().mount('', target, '', MS_REMOUNT | MS_BIND | MS_RDONLY, '');
    assert.throws(() => writeFileSync(join(target, 'g'), 'x'), { code: 'EROFS' });
    assert.throws(() => native().umount2(dir, 0), { code: 'EINVAL' });
    native().umount2(target, MNT_DETACH);
    assert.equal(isMountPoint(target), false);
    assert.equal(existsSync(join(target, 'f')), false);
  } finally {
    if (isMountPoint(target)) native().umount2(target, MNT_DETACH);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mount reports an unknown filesystem type as ENODEV naming the target', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hako-native-'));
  try {
    assert.throws(() => native().mount('x', dir, 'no-such-fs', 0, ''), (err: NodeJS.ErrnoException) => {
      assert.equal(err.code, 'ENODEV');
      assert.match(err.message, /mount/);
      assert.ok(err.message.includes(dir));
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
