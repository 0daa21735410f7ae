/**
 * The tar writer's own encoding (issue #7, bench/build): what tar-stream could not write, large
 * bodies across its 1 MiB chunks under a slow reader, the options a build context is packed with,
 * and hasChanges, the build's "does this step make a layer" check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, lchown, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { native } from '../../../src/native/index.js';
import { applyLayerTar, hasChanges, tarDirectory } from '../../../src/storage/index.js';
import { withTempDir } from './fixtures.js';

/** Reads `stream` one chunk per event-loop turn: a consumer slower than the writer. */
async function slowly(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) {
    chunks.push(c as Buffer);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return Buffer.concat(chunks);
}

async function entries(data: Buffer): Promise<Array<Omit<tar.Header, 'pax'> & { pax?: Record<string, string> | null; body: Buffer }>> {
  const out: Array<Omit<tar.Header, 'pax'> & { pax?: Record<string, string> | null; body: Buffer }> = [];
  const extract = tar.extract();
  const done = (async () => {
    for await (const e of extract) {
      const chunks: Buffer[] = [];
      for await (const c of e) chunks.push(c as Buffer);
      out.push({ ...(e.header as Omit<tar.Header, 'pax'> & { pax?: Record<string, string> | null }), body: Buffer.concat(chunks) });
    }
  })();
  Readable.from([data]).pipe(extract as unknown as NodeJS.WritableStream);
  await done;
  return out;
}

test('tarDirectory keeps a mode of 0 and writes owners above 0o777777 as PAX uid/gid', async () => {
  await withTempDir('tar-fast-ids', async (dir) => {
    const src = join(dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'locked'), 'secret');
    await chmod(join(src, 'locked'), 0);
    await writeFile(join(src, 'remapped'), 'r');
    await lchown(join(src, 'remapped'), 300000, 300001);
    const got = await entries(await slowly(tarDirectory(src)));
    const locked = got.find((e) => e.name === 'locked');
    const remapped = got.find((e) => e.name === 'remapped');
    assert.equal(locked?.mode, 0);
    assert.equal(locked?.body.toString(), 'secret');
    // ustar's 6 octal digits cannot hold them: PAX records do (what Go's archive/tar and GNU tar read).
    assert.equal(remapped?.pax?.uid, '300000');
    assert.equal(remapped?.pax?.gid, '300001');
  });
});

test('tarDirectory streams bodies larger than its chunks to a slow reader, and the tree unpacks the same', async () => {
  await withTempDir('tar-fast-big', async (dir) => {
    const src = join(dir, 'src');
    await mkdir(join(src, 'd'), { recursive: true });
    const big = randomBytes(3 * 1024 * 1024 + 123);
    await writeFile(join(src, 'big'), big);
    for (let i = 0; i < 300; i++) await writeFile(join(src, 'd', `f${i}`), `file ${i}\n`);
    await symlink('d/f1', join(src, 'link'));
    const stats = { fileBytes: 0 };
    const data = await slowly(tarDirectory(src, { stats }));
    assert.equal(data.length % 512, 0);
    const out = join(dir, 'out');
    await mkdir(out);
    await applyLayerTar(Readable.from([data]), out, { mode: 'flatten' });
    assert.ok((await readFile(join(out, 'big'))).equals(big), 'the large body round-trips byte for byte');
    assert.equal(await readFile(join(out, 'd', 'f299'), 'utf8'), 'file 299\n');
    assert.equal(await readFile(join(out, 'link'), 'utf8'), 'file 1\n');
    // Regular files' bytes (each inode once) and the symlink's own size, as docker counts a layer.
    const smalls = Array.from({ length: 300 }, (_, i) => `file ${i}\n`.length).reduce((a, b) => a + b, 0);
    assert.equal(stats.fileBytes, big.length + smalls + 'd/f1'.length);
  });
});

test('tarDirectory packs a build context: selected entries, no owners or xattrs, appended files', async () => {
  await withTempDir('tar-fast-select', async (dir) => {
    const src = join(dir, 'ctx');
    await mkdir(join(src, 'ignored', 'kept'), { recursive: true });
    await mkdir(join(src, 'skipped'));
    await writeFile(join(src, 'ignored', 'gone'), 'x');
    await writeFile(join(src, 'ignored', 'kept', 'file'), 'k');
    await writeFile(join(src, 'skipped', 'file'), 's');
    await writeFile(join(src, 'a.txt'), 'a');
    await lchown(join(src, 'a.txt'), 1000, 1000);
    native().lsetxattr(join(src, 'a.txt'), 'user.note', Buffer.from('n'));
    const data = await slowly(tarDirectory(src, {
      select: (rel) => (rel === 'skipped' || rel === 'ignored/gone' ? 'skip' : rel === 'ignored' ? 'below' : 'take'),
      mapIds: () => [0, 0],
      xattrs: false,
      append: [{ name: '.dockerfile.123', mode: 0o600, content: Buffer.from('FROM scratch\n') }],
    }));
    const got = await entries(data);
    assert.deepEqual(got.map((e) => e.name), ['a.txt', 'ignored/kept/', 'ignored/kept/file', '.dockerfile.123']);
    const a = got[0];
    assert.equal(a?.uid, 0);
    assert.ok(!a?.pax, 'no xattr records');
    const plain = (await entries(await slowly(tarDirectory(src)))).find((e) => e.name === 'a.txt');
    assert.equal(plain?.uid, 1000, 'without mapIds the owner is written');
    assert.equal(plain?.pax?.['SCHILY.xattr.user.note'], 'n', 'by default xattrs are written');
    assert.equal(got[3]?.body.toString(), 'FROM scratch\n');
    assert.equal(got[3]?.mode, 0o600);
  });
});

test('hasChanges: any entry is a change, a whiteout only of something below', async () => {
  await withTempDir('has-changes', async (dir) => {
    const lower = join(dir, 'lower');
    const upper = join(dir, 'upper');
    await mkdir(join(lower, 'etc'), { recursive: true });
    await writeFile(join(lower, 'etc', 'conf'), 'c');
    await mkdir(upper);
    assert.equal(await hasChanges(upper, [lower]), false, 'an empty upper dir');
    // A file created and deleted again leaves a whiteout of a name no layer below has.
    native().mknod(join(upper, 'tmpfile'), 0o020000 | 0o644, 0, 0);
    assert.equal(await hasChanges(upper, [lower]), false, 'a whiteout of nothing');
    native().mknod(join(upper, 'etc2'), 0o020000 | 0o644, 0, 0);
    await mkdir(join(upper, 'etc'));
    assert.equal(await hasChanges(upper, [lower]), true, 'a directory copied up');
    const upper2 = join(dir, 'upper2');
    await mkdir(upper2);
    native().mknod(join(upper2, 'etc'), 0o020000 | 0o644, 0, 0);
    assert.equal(await hasChanges(upper2, [lower]), true, 'a deletion of something below');
  });
});
