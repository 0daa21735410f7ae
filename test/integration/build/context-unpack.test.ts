/**
 * The build context as it streams in (src/build/context-unpack.ts): the tarsums it takes on the
 * way are the ones copy-hash.ts reads from disk, files stay in one data file until a step needs
 * them, and a tar going through its own symlinks stays inside the context directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildContext } from '../../../src/build/context.js';
import { unpackContext } from '../../../src/build/context-unpack.js';
import { entrySum } from '../../../src/build/copy-hash.js';
import { EPOCH_2001, exists, streamOf, tarOf, withTempDir } from '../storage/fixtures.js';

test('the sums taken while the context streams in are copy-hash\'s, and files reach the disk only on materialize', async () => {
  await withTempDir('ctx-sums', async (dir) => {
    const root = join(dir, 'context');
    const { index, sums, pending } = await unpackContext(streamOf(await tarOf([
      { name: 'Dockerfile', content: 'FROM busybox\n' },
      { name: 'app/', type: 'directory', mode: 0o750, uid: 1000, gid: 1000 },
      { name: 'app/run.sh', content: '#!/bin/sh\necho hi\n', mode: 0o4755, uid: 1000, gid: 1001 },
      { name: 'app/empty', content: '' },
      { name: 'app/link', type: 'symlink', linkname: 'run.sh' },
      { name: 'deep/er/file', content: 'no parent entries' },
    ])), root);
    assert.ok(index, 'a plain context keeps its index');
    assert.deepEqual(index.list('app'), ['empty', 'link', 'run.sh']);
    assert.equal(index.kind('deep/er'), 'dir');
    assert.equal(pending.size, 4);
    assert.equal(await exists(join(root, 'app', 'run.sh')), false, 'no file written before materialize');
    assert.equal((await lstat(join(root, 'app', 'link'))).isSymbolicLink(), true, 'directories and symlinks are there at once');

    await pending.materialize();
    assert.equal(await readFile(join(root, 'app', 'run.sh'), 'utf8'), '#!/bin/sh\necho hi\n');
    const st = await lstat(join(root, 'app', 'run.sh'));
    assert.equal(st.mode & 0o7777, 0o4755, 'set-id bits survive the chown');
    assert.deepEqual([st.uid, st.gid], [1000, 1001]);
    assert.equal(st.mtimeMs, EPOCH_2001.getTime());
    assert.equal((await lstat(join(root, 'app'))).mtimeMs, EPOCH_2001.getTime(), 'directory times are set after their files');
    for (const p of ['Dockerfile', 'app', 'app/run.sh', 'app/empty', 'deep', 'deep/er', 'deep/er/file']) {
      const abs = join(root, p);
      const sum = sums.get(p);
      // Parents made for a deeper entry have no header: their sum comes from disk later.
      if (p === 'deep' || p === 'deep/er') {
        assert.equal(sum, undefined);
        continue;
      }
      assert.equal(sum, await entrySum(abs, p, await lstat(abs), 'context'), `sum of ${p}`);
    }
    assert.equal(sums.has('app/link'), false, 'symlinks are hashed by copy-hash.ts (as what they point to)');
  });
});

test('BuildContext reads the Dockerfile and .dockerignore before the files are written, and matches by its index', async () => {
  await withTempDir('ctx-lazy', async (dir) => {
    const root = join(dir, 'context');
    const ctx = await BuildContext.unpack(streamOf(await tarOf([
      { name: 'Dockerfile', content: 'FROM busybox\nCOPY src/ /src/\n' },
      { name: '.dockerignore', content: 'src/*.log\n' },
      { name: 'src/', type: 'directory' },
      { name: 'src/a.txt', content: 'a' },
      { name: 'src/b.log', content: 'b' },
    ])), root, 'Dockerfile');
    assert.equal(await ctx.readDockerfile('Dockerfile'), 'FROM busybox\nCOPY src/ /src/\n');
    assert.deepEqual(await ctx.match('src/*.txt'), ['src/a.txt']);
    assert.deepEqual(await ctx.entries('src'), ['src', 'src/a.txt']);
    assert.deepEqual(await readdir(join(root, 'src')), [], 'still nothing written');
    await assert.rejects(ctx.match('src/b.log'), /excluded by \.dockerignore/);
    await ctx.materialize();
    assert.deepEqual((await readdir(join(root, 'src'))).sort(), ['a.txt', 'b.log']);
  });
});

test('paths through the context\'s own symlinks are found on disk: a symlinked Dockerfile, a file below a symlinked directory', async () => {
  await withTempDir('ctx-links', async (dir) => {
    const root = join(dir, 'context');
    const ctx = await BuildContext.unpack(streamOf(await tarOf([
      { name: 'Dockerfile', type: 'symlink', linkname: 'docker/Dockerfile.real' },
      { name: 'docker/', type: 'directory' },
      { name: 'docker/Dockerfile.real', content: 'FROM busybox\n' },
      { name: 'real/', type: 'directory' },
      { name: 'real/f', content: 'f' },
      { name: 'lnk', type: 'symlink', linkname: 'real' },
    ])), root, 'Dockerfile');
    assert.equal(await ctx.readDockerfile('Dockerfile'), 'FROM busybox\n');
    assert.deepEqual(await ctx.match('lnk/f'), ['lnk/f']);
    assert.deepEqual(await ctx.entries('lnk'), ['lnk'], 'a symlink is an entry of its own, not walked');
    await assert.rejects(ctx.match('lnk/missing'), /file not found in build context/);
  });
});

test('a context tar going through its own symlink stays inside the context and is read from disk', async () => {
  await withTempDir('ctx-hostile', async (dir) => {
    const root = join(dir, 'context');
    const { index, pending } = await unpackContext(streamOf(await tarOf([
      { name: 'before.txt', content: 'kept' },
      { name: 'escape', type: 'symlink', linkname: '/' },
      { name: 'escape/etc/planted', content: 'must land inside the context' },
      { name: 'up', type: 'symlink', linkname: '../..' },
      { name: 'up/outside', content: 'must land inside the context' },
    ])), root);
    assert.equal(index, null, 'the index is given up');
    assert.equal(pending.size, 0, 'everything is on disk');
    assert.equal(await readFile(join(root, 'before.txt'), 'utf8'), 'kept');
    assert.equal(await readFile(join(root, 'etc', 'planted'), 'utf8'), 'must land inside the context');
    assert.equal(await readFile(join(root, 'outside'), 'utf8'), 'must land inside the context');
    assert.equal(await exists(join(dir, 'outside')), false);
    await assert.rejects(unpackContext(streamOf(await tarOf([{ name: '../climb', content: 'x' }])), join(dir, 'c2')), /climbs out/);
  });
});
