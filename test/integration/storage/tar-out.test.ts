import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import * as tar from 'tar-stream';
import { Readable } from 'node:stream';
import { applyLayerTar, tarDirectory } from '../../../src/storage/index.js';
import { EPOCH_2001, describeTree, sha256, streamOf, tarOf, withTempDir, type TarEntry } from './fixtures.js';

const TREE: TarEntry[] = [
  { name: 'd/', type: 'directory', mode: 0o1777, uid: 1001, gid: 1002 },
  { name: 'd/f', content: 'hello\n', mode: 0o4755, uid: 1001, gid: 1002, pax: { 'SCHILY.xattr.user.origin': 'layer' } },
  { name: 'd/link', type: 'symlink', linkname: '../elsewhere', uid: 5, gid: 6 },
  { name: 'd/hard', type: 'link', linkname: 'd/f' },
  { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
  { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0, mode: 0o660 },
  { name: 'pipe', type: 'fifo' },
  { name: 'empty', content: '' },
  { name: 'long/' + 'n'.repeat(120) + '/' + 'x'.repeat(150), content: 'long names go through PAX' },
];

async function headersOf(data: Buffer): Promise<tar.Header[]> {
  const out: tar.Header[] = [];
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      out.push(entry.header);
      entry.resume();
    }
  })();
  Readable.from([data]).pipe(extract as unknown as NodeJS.WritableStream);
  await done;
  return out;
}

test('tarDirectory round-trips every kind, owner, mode, xattr and hard link', async () => {
  await withTempDir('tar-out', async (dir) => {
    const src = join(dir, 'src');
    const dst = join(dir, 'dst');
    await mkdir(src);
    await mkdir(dst);
    await applyLayerTar(streamOf(await tarOf(TREE)), src, { mode: 'flatten' });
    const data = await buffer(tarDirectory(src));
    await applyLayerTar(streamOf(data), dst, { mode: 'flatten' });
    assert.deepEqual(await describeTree(dst), await describeTree(src));
    assert.equal((await lstat(join(dst, 'd/hard'))).ino, (await lstat(join(dst, 'd/f'))).ino);
    assert.equal((await lstat(join(dst, 'd'))).mtime.getTime(), EPOCH_2001.getTime());

    const headers = await headersOf(data);
    assert.deepEqual(headers.map((h) => h.name).slice(0, 6), ['d/', 'd/f', 'd/hard', 'd/link', 'dev/', 'dev/null']);
    assert.equal(headers.find((h) => h.name === 'd/hard')?.type, 'link');
  });
});

test('tarDirectory gives the same bytes for the same tree', async () => {
  await withTempDir('tar-out-same', async (dir) => {
    await applyLayerTar(streamOf(await tarOf(TREE)), dir, { mode: 'flatten' });
    assert.equal(sha256(await buffer(tarDirectory(dir))), sha256(await buffer(tarDirectory(dir))));
  });
});

test('tarDirectory with includeRoot names entries under the root, renamed by rebaseName', async () => {
  await withTempDir('tar-out-root', async (dir) => {
    await mkdir(join(dir, 'etc/sub'), { recursive: true });
    await writeFile(join(dir, 'etc/sub/a'), 'a');
    await writeFile(join(dir, 'hosts'), 'h');
    assert.deepEqual((await headersOf(await buffer(tarDirectory(join(dir, 'etc'), { includeRoot: true })))).map((h) => h.name),
      ['etc/', 'etc/sub/', 'etc/sub/a']);
    assert.deepEqual((await headersOf(await buffer(tarDirectory(join(dir, 'etc'), { includeRoot: true, rebaseName: 'conf' })))).map((h) => h.name),
      ['conf/', 'conf/sub/', 'conf/sub/a']);
    const single = await headersOf(await buffer(tarDirectory(join(dir, 'hosts'), { includeRoot: true, rebaseName: 'hosts.bak' })));
    assert.deepEqual(single.map((h) => [h.name, h.size]), [['hosts.bak', 1]]);
  });
});

test('tarDirectory of a missing directory fails the stream', async () => {
  await withTempDir('tar-out-missing', async (dir) => {
    await assert.rejects(buffer(tarDirectory(join(dir, 'nope'))), { code: 'ENOENT' });
  });
});
