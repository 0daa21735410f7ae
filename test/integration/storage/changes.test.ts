import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { changesOf, LayerStore, openMetadataDb, tarUpperAsLayer } from '../../../src/storage/index.js';
import { describeTree, streamOf, tarOf, withTempDir } from './fixtures.js';

test('changesOf and tarUpperAsLayer capture a container\'s changes, and the committed layer reproduces its rootfs', async () => {
  await withTempDir('changes', async (dir) => {
    const db = openMetadataDb(join(dir, 'hako.db'));
    const store = new LayerStore({ root: join(dir, 'overlay'), db });
    const ctr1 = join(dir, 'ctr1');
    const ctr2 = join(dir, 'ctr2');
    try {
      const base = await store.createLayer(null, streamOf(await tarOf([
        { name: 'a/', type: 'directory' },
        { name: 'a/x', content: 'x' },
        { name: 'a/y', content: 'y' },
        { name: 'd/', type: 'directory' },
        { name: 'd/old', content: 'old' },
        { name: 'untouched/', type: 'directory' },
        { name: 'untouched/file', content: 'u' },
      ])));
      const mid = await store.createLayer(base.chainId, streamOf(await tarOf([
        { name: 'd/.wh..wh..opq' },
        { name: 'd/new', content: 'new' },
      ])));
      const rootfs = await store.mountRootfs(mid.chainId, ctr1);
      await writeFile(join(rootfs, 'a/y'), 'changed');
      await rm(join(rootfs, 'a/x'));
      await mkdir(join(rootfs, 'added/deeper'), { recursive: true });
      await writeFile(join(rootfs, 'added/deeper/file'), 'f');
      await rm(join(rootfs, 'd'), { recursive: true });
      await mkdir(join(rootfs, 'd'));
      await writeFile(join(rootfs, 'd/fresh'), 'fresh');
      await writeFile(join(rootfs, 'ephemeral'), 'e');
      await rm(join(rootfs, 'ephemeral'));

      const lowers = store.lowerDirs(mid.chainId);
      const upper = join(ctr1, 'diff');
      assert.deepEqual(await changesOf(upper, lowers), [
        { Path: '/a', Kind: 0 },
        { Path: '/a/x', Kind: 2 },
        { Path: '/a/y', Kind: 0 },
        { Path: '/added', Kind: 1 },
        { Path: '/added/deeper', Kind: 1 },
        { Path: '/added/deeper/file', Kind: 1 },
        { Path: '/d', Kind: 0 },
        { Path: '/d/fresh', Kind: 1 },
        { Path: '/d/new', Kind: 2 },
      ]);

      const expected = await describeTree(rootfs);
      const layer = await buffer(tarUpperAsLayer(upper, lowers));
      const text = layer.toString('latin1');
      assert.ok(text.includes('a/.wh.x'), 'the deletion is a .wh. entry');
      assert.ok(text.includes('d/.wh..wh..opq'), 'the recreated directory is opaque');
      assert.ok(!text.includes('old'), 'content from below is not in the layer');
      await store.unmountRootfs(ctr1);

      const committed = await store.createLayer(mid.chainId, streamOf(layer));
      const rootfs2 = await store.mountRootfs(committed.chainId, ctr2);
      assert.deepEqual(await describeTree(rootfs2), expected);
      assert.deepEqual(await readdir(join(rootfs2, 'd')), ['fresh']);
    } finally {
      await store.unmountRootfs(ctr1);
      await store.unmountRootfs(ctr2);
      db.close();
    }
  });
});

test('changesOf reports nothing for an untouched container', async () => {
  await withTempDir('changes-none', async (dir) => {
    const db = openMetadataDb(join(dir, 'hako.db'));
    const store = new LayerStore({ root: join(dir, 'overlay'), db });
    const ctr = join(dir, 'ctr');
    try {
      const base = await store.createLayer(null, streamOf(await tarOf([{ name: 'etc/hostname', content: 'x' }])));
      await store.mountRootfs(base.chainId, ctr);
      assert.deepEqual(await changesOf(join(ctr, 'diff'), store.lowerDirs(base.chainId)), []);
    } finally {
      await store.unmountRootfs(ctr);
      db.close();
    }
  });
});
