import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { detectCompression } from '../../../src/storage/index.js';

test('detectCompression tells gzip, zstd, xz and bzip2 by their magic bytes', () => {
  assert.equal(detectCompression(gzipSync(Buffer.from('x'))), 'gzip');
  assert.equal(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0])), 'zstd');
  assert.equal(detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])), 'xz');
  assert.equal(detectCompression(Buffer.from('BZh91AY')), 'bzip2');
  assert.equal(detectCompression(Buffer.from('etc/passwd\0')), 'none');
  assert.equal(detectCompression(Buffer.alloc(0)), 'none');
});
