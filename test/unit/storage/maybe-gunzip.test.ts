import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { maybeGunzip } from '../../../src/storage/index.js';

async function through(chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), maybeGunzip(), new Writable({ write(c: Buffer, _e, cb) { out.push(c); cb(); } }));
  return Buffer.concat(out);
}

describe('maybeGunzip', () => {
  const data = Buffer.concat([randomBytes(300_000), Buffer.from('text '.repeat(100_000))]);

  it('gunzips a gzip stream, even when its magic bytes arrive one at a time', async () => {
    const gz = gzipSync(data);
    assert.deepEqual(await through([gz]), data);
    assert.deepEqual(await through([gz.subarray(0, 1), gz.subarray(1, 2), gz.subarray(2)]), data);
  });

  it('passes a plain stream through unchanged, also a tiny one', async () => {
    assert.deepEqual(await through([data.subarray(0, 1000), data.subarray(1000)]), data);
    assert.deepEqual(await through([Buffer.from('x')]), Buffer.from('x'));
    assert.deepEqual(await through([]), Buffer.alloc(0));
  });

  it('a broken gzip stream fails the pipeline', async () => {
    const gz = gzipSync(data);
    await assert.rejects(through([gz.subarray(0, 1000), Buffer.from('garbage that is not deflate data at all')]));
  });
});
