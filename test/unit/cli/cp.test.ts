import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync, symlinkSync, readlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { splitCpArg } from '../../../src/cli/commands/cp.js';
import { packPath, unpackInto } from '../../../src/cli/localtar.js';

test('cp arguments split into container and path like docker', () => {
  assert.deepEqual(splitCpArg('web:/etc/hosts'), ['web', '/etc/hosts']);
  assert.deepEqual(splitCpArg('/abs/with:colon'), ['', '/abs/with:colon']);
  assert.deepEqual(splitCpArg('./rel:x'), ['', './rel:x']);
  assert.deepEqual(splitCpArg('plain'), ['', 'plain']);
  assert.deepEqual(splitCpArg('-'), ['', '-']);
});

test('a packed directory unpacks under its new name with files and links intact', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hako-cp-'));
  try {
    mkdirSync(join(dir, 'src/sub'), { recursive: true });
    writeFileSync(join(dir, 'src/sub/f.txt'), 'content\n');
    symlinkSync('sub/f.txt', join(dir, 'src/link'));
    mkdirSync(join(dir, 'out'));
    await unpackInto(packPath(join(dir, 'src'), 'renamed'), join(dir, 'out'), 'renamed', 'final');
    assert.equal(readFileSync(join(dir, 'out/final/sub/f.txt'), 'utf8'), 'content\n');
    assert.equal(readlinkSync(join(dir, 'out/final/link')), 'sub/f.txt');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unpacking with an empty new name drops the top directory (src/. semantics)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hako-cp-'));
  try {
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src/a'), 'a');
    mkdirSync(join(dir, 'out'));
    await unpackInto(packPath(join(dir, 'src'), 'src'), join(dir, 'out'), 'src', '');
    assert.equal(readFileSync(join(dir, 'out/a'), 'utf8'), 'a');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an archive entry that climbs out with .. is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hako-cp-'));
  try {
    const pack = tar.pack();
    pack.entry({ name: 'x/../../escape', type: 'file', size: 1 }, 'e');
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
    mkdirSync(join(dir, 'out'));
    await assert.rejects(unpackInto(Readable.from([Buffer.concat(chunks)]), join(dir, 'out'), 'x', 'x'), /invalid path in archive/);
    assert.equal(existsSync(join(dir, 'escape')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
