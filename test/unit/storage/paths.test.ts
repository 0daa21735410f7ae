import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEntryPath, resolveInRoot } from '../../../src/storage/index.js';
import { InvalidArgument } from '../../../src/errdefs/index.js';

test('cleanEntryPath drops ./ prefixes, duplicate slashes and trailing slashes', () => {
  assert.equal(cleanEntryPath('./etc/passwd'), 'etc/passwd');
  assert.equal(cleanEntryPath('etc//x/'), 'etc/x');
  assert.equal(cleanEntryPath('./'), '');
  assert.equal(cleanEntryPath('.'), '');
  assert.equal(cleanEntryPath('a/./b/../c'), 'a/c');
});

test('cleanEntryPath takes absolute names relative to the target, as docker does', () => {
  assert.equal(cleanEntryPath('/etc/x'), 'etc/x');
  assert.equal(cleanEntryPath('//etc/x'), 'etc/x');
});

test('cleanEntryPath refuses names that climb out of the target', () => {
  for (const bad of ['../x', 'a/../../x', '/../x', '..', './../etc/passwd', 'a/b/../../../c']) {
    assert.throws(() => cleanEntryPath(bad), (err: unknown) => err instanceof InvalidArgument && err.message.includes(bad), bad);
  }
});

test('cleanEntryPath refuses NUL bytes', () => {
  assert.throws(() => cleanEntryPath('a\0b'), InvalidArgument);
});

test('resolveInRoot clamps absolute and climbing symlinks to the root', async () => {
  const root = mkdtempSync(join(tmpdir(), 'hako-paths-'));
  try {
    mkdirSync(join(root, 'etc'));
    mkdirSync(join(root, 'real/sub'), { recursive: true });
    symlinkSync('/etc', join(root, 'abs'));
    symlinkSync('../../../../..', join(root, 'up'));
    symlinkSync('real/sub', join(root, 'rel'));
    symlinkSync('loop2', join(root, 'loop1'));
    symlinkSync('loop1', join(root, 'loop2'));
    assert.equal(await resolveInRoot(root, 'abs/passwd'), join(root, 'etc/passwd'));
    assert.equal(await resolveInRoot(root, 'up/etc/shadow'), join(root, 'etc/shadow'));
    assert.equal(await resolveInRoot(root, 'rel/../x'), join(root, 'real/x'));
    assert.equal(await resolveInRoot(root, '../../x'), join(root, 'x'));
    assert.equal(await resolveInRoot(root, 'missing/a/b'), join(root, 'missing/a/b'));
    assert.equal(await resolveInRoot(root, ''), root);
    await assert.rejects(resolveInRoot(root, 'loop1/x'), InvalidArgument);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
