import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lchown, lstat, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { applyLayerTar, tarLayerDir } from '../../../src/storage/index.js';
import { InvalidArgument } from '../../../src/errdefs/index.js';
import { streamOf, tarOf, withTempDir } from './fixtures.js';

/** ustar's largest owner id (6 octal digits): writers clamp to it and put the real id in PAX. */
const USTAR_MAX_ID = 0o777777;

test('apply takes the owner from PAX uid/gid records, which override the ustar fields', async () => {
  await withTempDir('pax-owner', async (dir) => {
    const target = join(dir, 'root');
    await mkdir(target);
    const big = { uid: USTAR_MAX_ID, gid: USTAR_MAX_ID, pax: { uid: '300000', gid: '300001' } };
    const data = await tarOf([
      { name: 'd/', type: 'directory', ...big },
      { name: 'd/f', content: 'owned\n', ...big },
      { name: 'd/link', type: 'symlink', linkname: 'f', ...big },
      { name: 'small', content: 'x', uid: 1000, gid: 1000 },
    ]);
    await applyLayerTar(streamOf(data), target, { mode: 'overlay' });
    for (const name of ['d', 'd/f', 'd/link']) {
      const st = await lstat(join(target, name));
      assert.deepEqual([st.uid, st.gid], [300000, 300001], `${name} is owned by the PAX ids`);
    }
    assert.equal(await readFile(join(target, 'd/f'), 'utf8'), 'owned\n');
    const small = await lstat(join(target, 'small'));
    assert.deepEqual([small.uid, small.gid], [1000, 1000], 'an entry without PAX ids keeps its ustar owner');
  });
});

test('apply maps PAX owner ids like ustar ones (userns-remap)', async () => {
  await withTempDir('pax-owner-map', async (dir) => {
    const target = join(dir, 'root');
    await mkdir(target);
    const data = await tarOf([{ name: 'f', content: 'x', uid: USTAR_MAX_ID, gid: USTAR_MAX_ID, pax: { uid: '300000', gid: '300001' } }]);
    await applyLayerTar(streamOf(data), target, { mode: 'flatten', mapIds: (uid, gid) => [uid + 100000, gid + 100000] });
    const st = await lstat(join(target, 'f'));
    assert.deepEqual([st.uid, st.gid], [400000, 400001]);
  });
});

test('apply refuses a PAX uid that is not an owner id, naming the entry', async () => {
  await withTempDir('pax-owner-bad', async (dir) => {
    const target = join(dir, 'root');
    await mkdir(target);
    for (const uid of ['-1', '12x', '4294967295']) {
      const data = await tarOf([{ name: 'f', content: 'x', pax: { uid } }]);
      await assert.rejects(applyLayerTar(streamOf(data), target, { mode: 'flatten' }), (err: unknown) => {
        assert.ok(err instanceof InvalidArgument, String(err));
        assert.match(err.message, /tar entry "f": PAX uid ".*" is not an owner id/);
        return true;
      });
    }
  });
});

test('a tree owned by ids above ustar\'s range round-trips through tarLayerDir and applyLayerTar', async () => {
  await withTempDir('pax-owner-roundtrip', async (dir) => {
    const layer = join(dir, 'layer');
    await mkdir(join(layer, 'home/app'), { recursive: true });
    await writeFile(join(layer, 'home/app/data'), 'payload\n');
    await symlink('data', join(layer, 'home/app/current'));
    await lchown(join(layer, 'home/app'), 300000, 300001);
    await lchown(join(layer, 'home/app/data'), 300000, 300001);
    await lchown(join(layer, 'home/app/current'), 300002, 300003);

    const target = join(dir, 'applied');
    await mkdir(target);
    await applyLayerTar(tarLayerDir(layer), target, { mode: 'overlay' });

    const owners = async (root: string) => Promise.all(['home', 'home/app', 'home/app/data', 'home/app/current'].map(async (name) => {
      const st = await lstat(join(root, name));
      return `${name} ${st.uid}:${st.gid}`;
    }));
    assert.deepEqual(await owners(target), ['home 0:0', 'home/app 300000:300001', 'home/app/data 300000:300001', 'home/app/current 300002:300003']);
    assert.deepEqual(await owners(target), await owners(layer));
    assert.equal(await readFile(join(target, 'home/app/data'), 'utf8'), 'payload\n');
  });
});
