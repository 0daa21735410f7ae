import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, symlinkSync, statSync, constants } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { native } from '../../../src/native/index.js';

function withTempDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'hako-native-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('lsetxattr stores a user attribute that lgetxattr and llistxattr read back', () => {
  withTempDir((dir) => {
    const file = join(dir, 'f');
    writeFileSync(file, 'x');
    native().lsetxattr(file, 'user.hako.test', Buffer.from([0, 1, 2, 255]));
    native().lsetxattr(file, 'user.empty', Buffer.alloc(0));
    assert.deepEqual(native().lgetxattr(file, 'user.hako.test'), Buffer.from([0, 1, 2, 255]));
    assert.deepEqual(native().lgetxattr(file, 'user.empty'), Buffer.alloc(0));
    const names = native().llistxattr(file).filter((n) => n.startsWith('user.'));
    assert.deepEqual(names.sort(), ['user.empty', 'user.hako.test']);
  });
});

test('lgetxattr returns null for an attribute the file does not have', () => {
  withTempDir((dir) => {
    const file = join(dir, 'f');
    writeFileSync(file, 'x');
    assert.equal(native().lgetxattr(file, 'user.absent'), null);
    assert.deepEqual(native().llistxattr(file).filter((n) => n.startsWith('user.')), []);
  });
});

test('lgetxattr reads a large value whole', () => {
  withTempDir((dir) => {
    const file = join(dir, 'f');
    writeFileSync(file, 'x');
    const value = Buffer.alloc(3000, 'v');
    native().lsetxattr(file, 'user.big', value);
    assert.deepEqual(native().lgetxattr(file, 'user.big'), value);
  });
});

test('the xattr calls act on a symlink itself, not on its target', () => {
  withTempDir((dir) => {
    writeFileSync(join(dir, 'target'), 'x');
    symlinkSync('target', join(dir, 'link'));
    native().lsetxattr(join(dir, 'target'), 'user.on-target', Buffer.from('1'));
    // user.* is not allowed on symlinks, so the link reports none of the target's attributes.
    assert.equal(native().lgetxattr(join(dir, 'link'), 'user.on-target'), null);
  });
});

test('a failing call throws an Error whose code is the errno name and whose message names the path', () => {
  withTempDir((dir) => {
    const missing = join(dir, 'missing');
    assert.throws(() => native().lgetxattr(missing, 'user.x'), (err: NodeJS.ErrnoException) => {
      assert.equal(err.code, 'ENOENT');
      assert.equal(err.syscall, 'lgetxattr');
      assert.equal(err.path, missing);
      assert.match(err.message, /lgetxattr/);
      assert.ok(err.message.includes(missing));
      return true;
    });
    assert.throws(() => native().llistxattr(missing), { code: 'ENOENT' });
    assert.throws(() => native().lsetxattr(missing, 'user.x', Buffer.from('1')), { code: 'ENOENT' });
    assert.throws(() => native().umount2(missing, 0), { code: 'ENOENT' });
  });
});

test('wrong argument types are TypeErrors, not crashes', () => {
  const addon = native() as unknown as Record<string, (...a: unknown[]) => unknown>;
  assert.throws(() => addon.lsetxattr!('/tmp', 'user.x', 'not a buffer'), TypeError);
  assert.throws(() => addon.lgetxattr!(42, 'user.x'), TypeError);
  assert.throws(() => addon.mknod!('/tmp/x', 'mode', 0, 0), TypeError);
});

test('mknod creates a fifo with the mode it is given', () => {
  withTempDir((dir) => {
    const fifo = join(dir, 'fifo');
    native().mknod(fifo, constants.S_IFIFO | 0o640, 0, 0);
    const st = statSync(fifo);
    assert.ok(st.isFIFO());
    assert.equal(st.mode & 0o777, 0o640 & ~process.umask());
    assert.throws(() => native().mknod(fifo, constants.S_IFIFO | 0o600, 0, 0), { code: 'EEXIST' });
  });
});
