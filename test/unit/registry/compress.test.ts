import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { gzipLayer, looksIncompressible, sampledEntropy } from '../../../src/registry/compress.js';

const MiB = 1 << 20;
const text = (n: number) => Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(Math.ceil(n / 44))).subarray(0, n);

async function drain(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out);
}

describe('push compression', () => {
  it('tells random bytes from text by their sampled entropy', () => {
    assert.ok(sampledEntropy(randomBytes(MiB)) > 7.9);
    assert.ok(sampledEntropy(text(MiB)) < 5);
    assert.ok(looksIncompressible(randomBytes(MiB)));
    assert.ok(!looksIncompressible(text(MiB)));
    assert.ok(!looksIncompressible(randomBytes(1000)), 'small chunks are always compressed');
  });

  it('gzips mixed chunks into a stream gunzip (Node and GNU gzip) reads back byte for byte', async () => {
    const chunks = [text(MiB), randomBytes(MiB), randomBytes(MiB), text(MiB), randomBytes(100), text(5000)];
    const input = Buffer.concat(chunks);
    const gz = await drain(gzipLayer(Readable.from(chunks)));
    assert.deepEqual(gunzipSync(gz), input);
    const viaGzip = execFileSync('gzip', ['-dc'], { input: gz, maxBuffer: 64 * MiB });
    assert.equal(createHash('sha256').update(viaGzip).digest('hex'), createHash('sha256').update(input).digest('hex'));
    // Text is compressed, random bytes are stored (a few bytes of framing per 64 KiB at most).
    assert.ok(gz.length < 2 * MiB + 100 + 64 * 1024, `${gz.length} bytes`);
    assert.ok(gz.length > 2 * MiB, `${gz.length} bytes`);
  });

  it('reports the bytes read and ends the source when the output is destroyed', async () => {
    const seen: number[] = [];
    let destroyed = false;
    const source = new Readable({
      read() { this.push(text(MiB)); },
      destroy(err, cb) { destroyed = true; cb(err); },
    });
    const out = gzipLayer(source, (n) => seen.push(n));
    for await (const _ of out) { if (seen.length >= 2) break; }
    await new Promise((r) => setImmediate(r));
    assert.ok(destroyed, 'the source was destroyed');
    assert.ok(seen.every((n, i) => n % MiB === 0 && (i === 0 || n > (seen[i - 1] as number))), seen.join(','));
  });

  it('a failing source fails the output', async () => {
    const source = new Readable({ read() { this.destroy(new Error('disk went away')); } });
    await assert.rejects(drain(gzipLayer(source)), /disk went away/);
  });
});
