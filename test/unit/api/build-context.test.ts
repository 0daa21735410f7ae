/**
 * POST /build takes the context tar plain or gzip-compressed (dockerode always gzips it; `docker
 * build --compress` too) and refuses bzip2/xz with a message saying what to send instead.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { createApiServer } from '../../../src/api/index.js';
import type { Engine } from '../../../src/engine/contract.js';
import { recordingLogger } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'hako-build-ctx-'));
const socketPath = join(dir, 'api.sock');
const received: Buffer[] = [];
let server: http.Server;

before(async () => {
  const engine = {
    build: {
      async build(context: Readable): Promise<string> {
        const chunks: Buffer[] = [];
        for await (const b of context) chunks.push(b as Buffer);
        received.push(Buffer.concat(chunks));
        return 'sha256:1';
      },
    },
  } as unknown as Engine;
  server = createApiServer(engine, { logger: recordingLogger() });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});
after(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

function postBuild(body: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method: 'POST', path: '/v1.47/build', headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const tar = Buffer.concat([Buffer.from('Dockerfile'), Buffer.alloc(1014, 1)]);

test('a plain context reaches the builder byte for byte', async () => {
  received.length = 0;
  await postBuild(tar);
  assert.deepEqual(received, [tar]);
});

test('a gzip-compressed context reaches the builder uncompressed', async () => {
  received.length = 0;
  await postBuild(gzipSync(tar));
  assert.deepEqual(received, [tar]);
});

test('a context shorter than a compression magic still reaches the builder', async () => {
  received.length = 0;
  await postBuild(Buffer.from('abc'));
  assert.deepEqual(received, [Buffer.from('abc')]);
});

test('an xz or bzip2 context is refused with what to send instead', async () => {
  for (const magic of [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.from('BZh91AY')]) {
    received.length = 0;
    const answer = await postBuild(Buffer.concat([magic, Buffer.alloc(100)]));
    assert.match(answer, /"error":"the build context is bzip2 or xz compressed, which hako does not read: send it as a plain or gzip-compressed tar"/);
    assert.deepEqual(received, []);
  }
});

test('a corrupt or truncated gzip context fails the build with zlib\'s reason, not a hang', async () => {
  const gz = gzipSync(tar);
  // The large one is still being sent when zlib gives up: the answer must still reach the client.
  for (const body of [Buffer.concat([gz.subarray(0, 10), Buffer.alloc(64, 0xff)]), gz.subarray(0, gz.length - 12), Buffer.concat([gz.subarray(0, 10), Buffer.alloc(8 << 20, 0xff)])]) {
    received.length = 0;
    const answer = await postBuild(body);
    assert.match(answer, /"error":"[^"]*(invalid|unexpected end of file)/);
    assert.deepEqual(received, []);
  }
});
