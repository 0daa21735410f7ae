import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { LayerStore, nextChainId, openMetadataDb } from '../../../src/storage/index.js';
import { native } from '../../../src/native/index.js';
import { exists, streamOf, tarOf, withTempDir } from './fixtures.js';

async function digestOf(tar: Readable): Promise<{ digest: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of tar) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { digest: 'sha256:' + hash.digest('hex'), bytes };
}

test('adoptLayer takes a container upper dir as a layer whose stored tar is the one tarLayer gives later', async () => {
  await withTempDir('adopt', async (dir) => {
    const db = openMetadataDb(join(dir, 'hako.db'));
    const store = new LayerStore({ root: join(dir, 'overlay'), db });
    const ctr = join(dir, 'ctr1');
    try {
      const base = await store.createLayer(null, streamOf(await tarOf([
        { name: 'a/', type: 'directory' }, { name: 'a/x', content: 'x1' }, { name: 'a/y', content: 'y1' },
      ])));
      const root = await store.mountRootfs(base.chainId, ctr);
      await rm(join(root, 'a/x'));
      await writeFile(join(root, 'a/new'), 'new!');
      await mkdir(join(root, 'big'));
      for (let i = 0; i < 50; i++) await writeFile(join(root, 'big', `f${i}`), 'z'.repeat(i));
      await store.unmountRootfs(ctr);
      // A whiteout of a name that no layer below has (overlay can leave these): not in the tar.
      native().mknod(join(ctr, 'diff/a/ghost'), constants.S_IFCHR | 0o000, 0, 0);

      let stored: { digest: string; bytes: number } | undefined;
      const layer = await store.adoptLayer(base.chainId, join(ctr, 'diff'), {
        lowerDirs: store.lowerDirs(base.chainId),
        storeTar: async (tar) => (stored = await digestOf(tar)).digest,
      });
      assert.ok(layer && stored);
      assert.equal(layer.diffId, stored.digest);
      assert.equal(layer.chainId, nextChainId(base.chainId, stored.digest));
      assert.equal(layer.size, 4 + (49 * 50) / 2);
      assert.equal(await exists(join(ctr, 'diff')), false, 'the upper dir was moved, not copied');
      const layerDir = store.layerDir(layer.chainId);
      assert.equal(await readFile(join(layerDir, 'a/new'), 'utf8'), 'new!');
      assert.equal(await exists(join(layerDir, 'a/ghost')), false);
      assert.equal(await exists(join(layerDir, 'a/x')), true, 'the whiteout of a/x stays');
      // Regenerating the tar from the stored layer gives the same bytes: save and push agree.
      assert.equal((await digestOf(store.tarLayer(layer.chainId))).digest, layer.diffId);
      // The layer works as a lower dir.
      const root2 = await store.mountRootfs(layer.chainId, join(dir, 'ctr2'));
      assert.equal(await exists(join(root2, 'a/x')), false);
      assert.equal(await readFile(join(root2, 'a/y'), 'utf8'), 'y1');
      assert.equal(await readFile(join(root2, 'big/f3'), 'utf8'), 'zzz');
    } finally {
      await store.unmountRootfs(ctr);
      await store.unmountRootfs(join(dir, 'ctr2'));
      db.close();
    }
  });
});
