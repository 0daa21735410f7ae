import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LiveDownload } from '../../../src/registry/index.js';

async function drain(s: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('LiveDownload: following a download as it lands', () => {
  it('gives the bytes in order and ends only once the download verified', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hako-live-'));
    try {
      const path = join(dir, 'blob');
      const live = new LiveDownload();
      live.start(path);
      const stream = live.open();
      assert.ok(stream, 'a running download can be followed');
      let ended = false;
      const got = drain(stream).then((b) => { ended = true; return b; });
      writeFileSync(path, 'hello ');
      live.wrote(6);
      appendFileSync(path, 'world');
      live.wrote(5);
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(ended, false, 'all bytes are there but the digest has not been checked yet');
      live.complete(11);
      assert.equal((await got).toString(), 'hello world');
      assert.equal(live.open(), null, 'a finished download is read from the store instead');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('breaks the stream when the download resumes, and fails it when the download fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hako-live-'));
    try {
      const path = join(dir, 'blob');
      writeFileSync(path, '');
      const resumed = new LiveDownload();
      resumed.start(path);
      const s1 = resumed.open();
      assert.ok(s1);
      resumed.interrupt(new Error('socket hang up'));
      await assert.rejects(drain(s1), /interrupted and resumed: socket hang up/);
      assert.equal(resumed.interrupted, true);
      assert.equal(resumed.open(), null);

      const failed = new LiveDownload();
      failed.start(path);
      const s2 = failed.open();
      assert.ok(s2);
      failed.fail(new Error('digest mismatch'));
      await assert.rejects(drain(s2), /digest mismatch/);
      assert.equal(failed.interrupted, false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
