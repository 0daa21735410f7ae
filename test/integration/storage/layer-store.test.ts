import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { LayerStore, nextChainId, openMetadataDb, applyLayerTar, type MetadataDb } from '../../../src/storage/index.js';
import { Conflict, InvalidArgument, NotFound } from '../../../src/errdefs/index.js';
import { native } from '../../../src/native/index.js';
import { describeTree, exists, sha256, streamOf, tarOf, withTempDir } from './fixtures.js';

async function withStore(fn: (store: LayerStore, dir: string, db: MetadataDb) => Promise<void>): Promise<void> {
  await withTempDir('layers', async (dir) => {
    const db = openMetadataDb(join(dir, 'hako.db'));
    const store = new LayerStore({ root: join(dir, 'overlay'), db });
    const containers: string[] = [];
    try {
      await fn(store, dir, db);
    } finally {
      for (const name of await readdir(dir)) {
        if (name.startsWith('ctr')) containers.push(join(dir, name));
      }
      for (const c of containers) await store.unmountRootfs(c);
      db.close();
    }
  });
}

const BASE = [
  { name: 'a/', type: 'directory' as const },
  { name: 'a/x', content: 'x1' },
  { name: 'a/y', content: 'y1' },
  { name: 'd/', type: 'directory' as const },
  { name: 'd/keep', content: 'below' },
  { name: 'f', content: 'f1' },
];
const MIDDLE = [
  { name: '.wh.f' },
  { name: 'd/', type: 'directory' as const },
  { name: 'd/.wh..wh..opq' },
  { name: 'd/new', content: 'new' },
];
const TOP = [
  { name: 'a/', type: 'directory' as const },
  { name: 'a/.wh.x' },
  { name: 'a/y', content: 'y3' },
  { name: 'top', content: 't' },
];

test('createLayer names a base layer by its diff ID and a child by its chain ID', async () => {
  await withStore(async (store) => {
    const baseTar = await tarOf(BASE);
    const base = await store.createLayer(null, streamOf(gzipSync(baseTar)));
    assert.deepEqual(base, { chainId: sha256(baseTar), diffId: sha256(baseTar), parent: null, size: 11 });
    const midTar = await tarOf(MIDDLE);
    const mid = await store.createLayer(base.chainId, streamOf(midTar), { expectedDiffId: sha256(midTar) });
    assert.equal(mid.chainId, nextChainId(base.chainId, sha256(midTar)));
    assert.deepEqual(store.get(mid.chainId), mid);
    assert.equal(store.has(mid.chainId), true);
    assert.deepEqual(store.lowerDirs(mid.chainId), [store.layerDir(mid.chainId), store.layerDir(base.chainId)]);
    assert.equal(await readFile(join(store.layerDir(base.chainId), 'a/x'), 'utf8'), 'x1');
    assert.equal(store.layerDir(base.chainId), join(store.root, base.chainId.slice(7), 'diff'));
  });
});

test('createLayer of an identical layer reuses the stored one', async () => {
  await withStore(async (store) => {
    const data = await tarOf(BASE);
    const [one, two] = await Promise.all([store.createLayer(null, streamOf(data)), store.createLayer(null, streamOf(data))]);
    assert.deepEqual(one, two);
    assert.deepEqual((await readdir(store.root)).sort(), [one.chainId.slice(7), 'empty', 'l', 'tmp'].sort());
    assert.equal((await readdir(join(store.root, 'l'))).length, 1);
    assert.deepEqual(await readdir(join(store.root, 'tmp')), []);
  });
});

test('createLayer with the diff ID of a stored layer reuses it without reading the tar', async () => {
  await withStore(async (store) => {
    const data = await tarOf(BASE);
    const first = await store.createLayer(null, streamOf(data));
    const unread = streamOf(Buffer.from('not even a tar'));
    assert.deepEqual(await store.createLayer(null, unread, { expectedDiffId: first.diffId }), first);
    assert.equal(unread.destroyed, true);
  });
});

test('createLayer of a corrupt gzip throws and leaves no directory or row behind', async () => {
  await withStore(async (store, _dir, db) => {
    const gz = gzipSync(await tarOf(BASE));
    const corrupt = Buffer.concat([gz.subarray(0, 40), Buffer.alloc(40, 0x55), gz.subarray(80)]);
    await assert.rejects(store.createLayer(null, streamOf(corrupt)), InvalidArgument);
    const truncated = gz.subarray(0, gz.length - 20);
    await assert.rejects(store.createLayer(null, streamOf(truncated)), /not a valid tar or gzip/);
    assert.deepEqual((await readdir(store.root)).sort(), ['empty', 'l', 'tmp']);
    assert.deepEqual(await readdir(join(store.root, 'tmp')), []);
    assert.deepEqual(await readdir(join(store.root, 'l')), []);
    assert.deepEqual(db.db.prepare('SELECT * FROM layers').all(), []);
  });
});

test('createLayer with the wrong expected diff ID throws naming both and keeps nothing', async () => {
  await withStore(async (store) => {
    const data = await tarOf(BASE);
    const wrong = sha256(Buffer.from('other'));
    await assert.rejects(store.createLayer(null, streamOf(data), { expectedDiffId: wrong }),
      (err: unknown) => err instanceof InvalidArgument && err.message.includes(wrong) && err.message.includes(sha256(data)));
    assert.equal(store.has(sha256(data)), false);
    assert.deepEqual((await readdir(store.root)).sort(), ['empty', 'l', 'tmp']);
  });
});

test('createLayer of a hostile tar keeps nothing', async () => {
  await withStore(async (store) => {
    await assert.rejects(store.createLayer(null, streamOf(await tarOf([{ name: 'ok', content: 'x' }, { name: '../../../evil', content: 'x' }]))), InvalidArgument);
    assert.deepEqual((await readdir(store.root)).sort(), ['empty', 'l', 'tmp']);
    assert.deepEqual(await readdir(join(store.root, 'tmp')), []);
  });
});

test('createLayer on a parent that is not stored is NotFound', async () => {
  await withStore(async (store) => {
    await assert.rejects(store.createLayer(sha256(Buffer.from('nope')), streamOf(await tarOf(BASE))), NotFound);
  });
});

test('remove refuses a layer with a child and removes a leaf with its short link', async () => {
  await withStore(async (store) => {
    const base = await store.createLayer(null, streamOf(await tarOf(BASE)));
    const mid = await store.createLayer(base.chainId, streamOf(await tarOf(MIDDLE)));
    await assert.rejects(store.remove(base.chainId), Conflict);
    await store.remove(mid.chainId);
    assert.equal(store.has(mid.chainId), false);
    assert.throws(() => store.get(mid.chainId), NotFound);
    assert.equal(await exists(join(store.root, mid.chainId.slice(7))), false);
    const links = await readdir(join(store.root, 'l'));
    assert.equal(links.length, 1);
    assert.equal(await readlink(join(store.root, 'l', links[0] as string)), `../${base.chainId.slice(7)}/diff`);
    await store.remove(base.chainId);
    assert.deepEqual(await readdir(join(store.root, 'l')), []);
  });
});

test('a stack of three layers mounted as overlay shows deletions and opaque directories', async () => {
  await withStore(async (store, dir) => {
    const base = await store.createLayer(null, streamOf(await tarOf(BASE)));
    const mid = await store.createLayer(base.chainId, streamOf(await tarOf(MIDDLE)));
    const top = await store.createLayer(mid.chainId, streamOf(await tarOf(TOP)));
    const ctr = join(dir, 'ctr1');
    const rootfs = await store.mountRootfs(top.chainId, ctr);
    assert.equal(rootfs, join(ctr, 'rootfs'));
    assert.equal(await store.isMounted(ctr), true);
    assert.equal(await store.mountRootfs(top.chainId, ctr), rootfs, 'mounting twice is harmless');
    assert.deepEqual((await readdir(rootfs)).sort(), ['a', 'd', 'top']);
    assert.deepEqual(await readdir(join(rootfs, 'a')), ['y']);
    assert.equal(await readFile(join(rootfs, 'a/y'), 'utf8'), 'y3');
    assert.deepEqual(await readdir(join(rootfs, 'd')), ['new']);
    await store.unmountRootfs(ctr);
    assert.equal(await store.isMounted(ctr), false);
    await store.unmountRootfs(ctr);
    assert.deepEqual(await readdir(rootfs), []);
    await assert.rejects(store.remove(mid.chainId), Conflict);
  });
});

test('a container over no layers mounts an empty writable rootfs', async () => {
  await withStore(async (store, dir) => {
    const ctr = join(dir, 'ctr-empty');
    const rootfs = await store.mountRootfs(null, ctr);
    assert.deepEqual(await readdir(rootfs), []);
    const tarOfFile = await tarOf([{ name: 'hello', content: 'hi' }]);
    await applyLayerTar(streamOf(tarOfFile), rootfs, { mode: 'flatten' });
    assert.equal(await readFile(join(ctr, 'diff/hello'), 'utf8'), 'hi', 'writes land in the container\'s diff');
    await store.unmountRootfs(ctr);
  });
});

test('an image of 120 layers mounts through the short links', async () => {
  await withStore(async (store, dir) => {
    let chain: string | null = null;
    for (let i = 0; i < 120; i++) {
      chain = (await store.createLayer(chain, streamOf(await tarOf([{ name: `f${i}`, content: String(i) }])))).chainId;
    }
    const ctr = join(dir, 'ctr-deep');
    const cwd = process.cwd();
    const rootfs = await store.mountRootfs(chain, ctr);
    assert.equal((await readdir(rootfs)).length, 120);
    assert.equal(await readFile(join(rootfs, 'f0'), 'utf8'), '0');
    assert.equal(await readFile(join(rootfs, 'f119'), 'utf8'), '119');
    assert.equal(process.cwd(), cwd, 'the working directory is restored after a relative mount');
    await store.unmountRootfs(ctr);
  });
});

test('tarLayer re-tars a layer with whiteouts as .wh. entries that apply back to the same tree', async () => {
  await withStore(async (store, dir) => {
    const base = await store.createLayer(null, streamOf(await tarOf(BASE)));
    const mid = await store.createLayer(base.chainId, streamOf(await tarOf(MIDDLE)));
    const chunks: Buffer[] = [];
    for await (const c of store.tarLayer(mid.chainId)) chunks.push(c as Buffer);
    const retar = Buffer.concat(chunks);
    const names = retar.toString('latin1');
    assert.ok(names.includes('.wh.f'));
    assert.ok(names.includes('d/.wh..wh..opq'));
    const db2 = openMetadataDb(join(dir, 'other.db'));
    try {
      const other = new LayerStore({ root: join(dir, 'overlay2'), db: db2 });
      const base2 = await other.createLayer(null, streamOf(await tarOf(BASE)));
      const mid2 = await other.createLayer(base2.chainId, streamOf(retar));
      assert.deepEqual(await describeTree(other.layerDir(mid2.chainId)), await describeTree(store.layerDir(mid.chainId)));
      assert.ok((await lstat(join(other.layerDir(mid2.chainId), 'f'))).isCharacterDevice());
      assert.equal(native().lgetxattr(join(other.layerDir(mid2.chainId), 'd'), 'trusted.overlay.opaque')?.toString(), 'y');
    } finally {
      db2.close();
    }
  });
});
