import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { unpackInto } from '../../../src/cli/localtar.js';
import { withTempDir } from '../../support/temp-dir.js';

/** A tar of `entries` as tar-stream writes them (PAX records where given). */
async function tarOf(entries: Array<{ name: string; type: 'file' | 'directory'; uid: number; gid: number; pax?: Record<string, string> }>): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    const header = { name: e.name, type: e.type, mode: e.type === 'directory' ? 0o755 : 0o644, uid: e.uid, gid: e.gid, ...(e.pax ? { pax: e.pax } : {}) };
    if (e.type === 'file') pack.entry(header, 'data\n');
    else pack.entry(header);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

test('hako cp out of a container (as root) gives files the owner of their PAX uid/gid records', async () => {
  await withTempDir('cp-pax', async (dir) => {
    const big = { uid: 0o777777, gid: 0o777777, pax: { uid: '300000', gid: '300001' } };
    const data = await tarOf([
      { name: 'app/', type: 'directory', ...big },
      { name: 'app/data', type: 'file', ...big },
      { name: 'app/small', type: 'file', uid: 1000, gid: 1001 },
    ]);
    await mkdir(join(dir, 'out'));
    await unpackInto(Readable.from([data]), join(dir, 'out'), 'app', 'app');
    const owner = async (name: string) => {
      const st = await lstat(join(dir, 'out', name));
      return [st.uid, st.gid];
    };
    assert.deepEqual(await owner('app'), [300000, 300001]);
    assert.deepEqual(await owner('app/data'), [300000, 300001]);
    assert.deepEqual(await owner('app/small'), [1000, 1001]);
  });
});
