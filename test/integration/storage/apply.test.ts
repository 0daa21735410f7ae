import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, lstat, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { applyLayerTar } from '../../../src/storage/index.js';
import { NotImplemented } from '../../../src/errdefs/index.js';
import { native } from '../../../src/native/index.js';
import { EPOCH_2001, exists, sha256, streamOf, tarOf, withTempDir, type TarEntry } from './fixtures.js';

const EVERY_KIND: TarEntry[] = [
  { name: './', type: 'directory', mode: 0o700 },
  { name: './d/', type: 'directory', mode: 0o1777, uid: 1001, gid: 1002 },
  { name: './d/f', content: 'hello\n', mode: 0o4755, uid: 1001, gid: 1002, pax: { 'SCHILY.xattr.user.origin': 'layer-1' } },
  { name: './d/link', type: 'symlink', linkname: 'f', uid: 5, gid: 6 },
  { name: './d/hard', type: 'link', linkname: './d/f' },
  { name: './dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
  { name: './dev/loop0', type: 'block-device', devmajor: 7, devminor: 0, mode: 0o660, gid: 6 },
  { name: './pipe', type: 'fifo', mode: 0o620 },
  { name: 'deep/er/file', content: 'x', mode: 0o2711 },
];

test('apply unpacks every entry kind with its owner, mode, mtime and xattrs', async () => {
  await withTempDir('apply', async (dir) => {
    const target = join(dir, 'root');
    await mkdir(target, { mode: 0o755 });
    const data = await tarOf(EVERY_KIND);
    const result = await applyLayerTar(streamOf(data), target, { mode: 'overlay' });
    // 6 + 1 bytes of files and the 1-byte symlink target: docker's layer size counts symlinks too.
    assert.deepEqual(result, { diffId: sha256(data), size: 8 });

    const root = await lstat(target);
    assert.equal(root.mode & 0o7777, 0o755, 'the target keeps its own mode, as docker skips "./"');
    const d = await lstat(join(target, 'd'));
    assert.ok(d.isDirectory());
    assert.equal(d.mode & 0o7777, 0o1777);
    assert.deepEqual([d.uid, d.gid], [1001, 1002]);
    assert.equal(d.mtime.getTime(), EPOCH_2001.getTime(), 'a directory keeps its mtime after files are created in it');

    const f = await lstat(join(target, 'd/f'));
    assert.equal(f.mode & 0o7777, 0o4755, 'setuid survives chown');
    assert.deepEqual([f.uid, f.gid, f.nlink], [1001, 1002, 2]);
    assert.equal(f.mtime.getTime(), EPOCH_2001.getTime());
    assert.equal(await readFile(join(target, 'd/f'), 'utf8'), 'hello\n');
    assert.equal(native().lgetxattr(join(target, 'd/f'), 'user.origin')?.toString(), 'layer-1');

    const hard = await lstat(join(target, 'd/hard'));
    assert.equal(hard.ino, f.ino);
    const link = await lstat(join(target, 'd/link'));
    assert.ok(link.isSymbolicLink());
    assert.equal(await readlink(join(target, 'd/link')), 'f');
    assert.deepEqual([link.uid, link.gid], [5, 6]);

    const nul = await lstat(join(target, 'dev/null'));
    assert.ok(nul.isCharacterDevice());
    assert.equal(nul.rdev, (1 << 8) | 3);
    assert.equal(nul.mode & 0o7777, 0o666);
    const loop = await lstat(join(target, 'dev/loop0'));
    assert.ok(loop.isBlockDevice());
    assert.equal(loop.rdev, 7 << 8);
    assert.equal(loop.gid, 6);
    const pipe = await lstat(join(target, 'pipe'));
    assert.ok(pipe.isFIFO());
    assert.equal(pipe.mode & 0o7777, 0o620);

    const implicit = await lstat(join(target, 'deep/er'));
    assert.equal(implicit.mode & 0o7777, 0o755, 'missing parents are made 0755');
    assert.equal((await lstat(join(target, 'deep/er/file'))).mode & 0o7777, 0o2711);
  });
});

test('the diffID of a gzip layer is the digest of its uncompressed tar', async () => {
  await withTempDir('apply-gz', async (dir) => {
    const data = await tarOf([{ name: 'a', content: 'a' }]);
    const result = await applyLayerTar(streamOf(gzipSync(data)), dir, { mode: 'overlay' });
    assert.equal(result.diffId, sha256(data));
    assert.equal(await readFile(join(dir, 'a'), 'utf8'), 'a');
  });
});

test('apply refuses a zstd layer with NotImplemented naming zstd', async () => {
  await withTempDir('apply-zstd', async (dir) => {
    const zstd = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(64)]);
    await assert.rejects(applyLayerTar(streamOf(zstd), dir, { mode: 'overlay' }),
      (err: unknown) => err instanceof NotImplemented && /zstd/.test(err.message));
  });
});

test('in overlay mode whiteouts become 0/0 char devices and opaque markers an xattr', async () => {
  await withTempDir('apply-wh', async (dir) => {
    const data = await tarOf([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/.wh.passwd' },
      { name: 'opt/.wh..wh..opq' },
      { name: 'opt/new', content: 'n' },
      { name: '.wh..wh.plnk', type: 'directory' },
    ]);
    await applyLayerTar(streamOf(data), dir, { mode: 'overlay' });
    const wh = await lstat(join(dir, 'etc/passwd'));
    assert.ok(wh.isCharacterDevice());
    assert.equal(wh.rdev, 0);
    assert.equal(await exists(join(dir, 'etc/.wh.passwd')), false);
    assert.equal(native().lgetxattr(join(dir, 'opt'), 'trusted.overlay.opaque')?.toString(), 'y');
    assert.equal(await exists(join(dir, 'opt/.wh..wh..opq')), false);
    assert.equal(await readFile(join(dir, 'opt/new'), 'utf8'), 'n');
    assert.equal(await exists(join(dir, '.wh..wh.plnk')), false, 'aufs metadata is skipped');
  });
});

test('in flatten mode whiteouts delete and an opaque marker empties the directory of older entries', async () => {
  await withTempDir('apply-flat', async (dir) => {
    await mkdir(join(dir, 'etc'));
    await writeFile(join(dir, 'etc/passwd'), 'root');
    await writeFile(join(dir, 'etc/group'), 'root');
    await mkdir(join(dir, 'opt/old/deeper'), { recursive: true });
    await writeFile(join(dir, 'opt/old.txt'), 'old');
    const data = await tarOf([
      { name: 'etc/.wh.passwd' },
      { name: 'opt/new', content: 'n' },
      { name: 'opt/sub/x', content: 'x' },
      { name: 'opt/.wh..wh..opq' },
      { name: '.wh.never-existed' },
    ]);
    await applyLayerTar(streamOf(data), dir, { mode: 'flatten' });
    assert.equal(await exists(join(dir, 'etc/passwd')), false);
    assert.equal(await readFile(join(dir, 'etc/group'), 'utf8'), 'root');
    assert.equal(await exists(join(dir, 'opt/old')), false);
    assert.equal(await exists(join(dir, 'opt/old.txt')), false);
    assert.equal(await readFile(join(dir, 'opt/new'), 'utf8'), 'n', 'entries of this layer survive its own opaque marker');
    assert.equal(await readFile(join(dir, 'opt/sub/x'), 'utf8'), 'x');
    assert.equal(await exists(join(dir, 'never-existed')), false);
  });
});

test('in flatten mode an entry replaces what was there, file over directory and back', async () => {
  await withTempDir('apply-replace', async (dir) => {
    await mkdir(join(dir, 'was-dir/inner'), { recursive: true });
    await writeFile(join(dir, 'was-file'), 'f');
    await mkdir(join(dir, 'kept'));
    await writeFile(join(dir, 'kept/old'), 'o');
    await applyLayerTar(streamOf(await tarOf([
      { name: 'was-dir', content: 'now a file' },
      { name: 'was-file/', type: 'directory' },
      { name: 'kept/', type: 'directory', mode: 0o750 },
    ])), dir, { mode: 'flatten' });
    assert.equal(await readFile(join(dir, 'was-dir'), 'utf8'), 'now a file');
    assert.ok((await lstat(join(dir, 'was-file'))).isDirectory());
    assert.equal(await readFile(join(dir, 'kept/old'), 'utf8'), 'o', 'a directory over a directory merges');
    assert.equal((await lstat(join(dir, 'kept'))).mode & 0o7777, 0o750);
  });
});

test('an aborted apply stops with an AbortError', async () => {
  await withTempDir('apply-abort', async (dir) => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(applyLayerTar(streamOf(await tarOf([{ name: 'a', content: 'a' }])), dir, { mode: 'overlay', signal: ac.signal }),
      { name: 'AbortError' });
  });
});
