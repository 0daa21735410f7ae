/**
 * The docker CLI against hakod for the volume paths of issue #3: `docker cp` to and from a named
 * volume's mount point, volumes in `system df`, and volumes with mount options across a restart.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startHakod, type Hakod } from '../support/hakod.js';
import { ok } from './expect.js';

describe('docker CLI and hako on volume paths', () => {
  let d: Hakod;
  const work = mkdtempSync(join(tmpdir(), 'hako-compat-volpaths-'));
  before(async () => {
    d = await startHakod();
  });
  after(async () => {
    try { await d?.stop(); } finally { rmSync(work, { recursive: true, force: true }); }
  });

  it('docker cp into and out of a named volume reaches the volume, not the container layer', async () => {
    ok(await d.docker(['create', '--name', 'holder', '-v', 'cpvol:/data', 'busybox', 'true']), d);
    const src = join(work, 'in.txt');
    writeFileSync(src, 'through cp\n');
    ok(await d.docker(['cp', src, 'holder:/data/in.txt']), d);
    assert.equal(readFileSync(join(d.dataRoot, 'volumes', 'cpvol', '_data', 'in.txt'), 'utf8'), 'through cp\n');
    assert.equal(ok(await d.docker(['run', '--rm', '-v', 'cpvol:/v', 'busybox', 'cat', '/v/in.txt']), d), 'through cp\n');
    ok(await d.docker(['run', '--rm', '-v', 'cpvol:/v', 'busybox', 'sh', '-c', 'echo from a container > /v/out.txt']), d);
    ok(await d.docker(['cp', 'holder:/data/out.txt', join(work, 'out.txt')]), d);
    assert.equal(readFileSync(join(work, 'out.txt'), 'utf8'), 'from a container\n');
    // The container's own layer has nothing at /data.
    assert.equal(ok(await d.docker(['diff', 'holder']), d), '');
    ok(await d.docker(['rm', 'holder']), d);
  });

  it('system df counts volumes and df -v lists each with its links and size, as docker does', async () => {
    ok(await d.docker(['run', '--name', 'user', '-v', 'dfvol:/v', 'busybox', 'sh', '-c', 'head -c 5000 /dev/zero > /v/blob']), d);
    ok(await d.docker(['volume', 'create', 'idle']), d);
    for (const cli of ['docker', 'hako'] as const) {
      const summary = ok(await d[cli](['system', 'df']), d);
      assert.match(summary, /^Local Volumes\s+3\s+1\s+\S+\s+\S+/m, `${cli}: ${summary}`);
      const verbose = ok(await d[cli](['system', 'df', '-v']), d);
      assert.match(verbose, /Local Volumes space usage:\n\nVOLUME NAME\s+LINKS\s+SIZE\n/, `${cli}: ${verbose}`);
      assert.match(verbose, /^dfvol\s+1\s+5kB$/m, `${cli}: ${verbose}`);
      assert.match(verbose, /^idle\s+0\s+0B$/m, `${cli}: ${verbose}`);
      assert.match(verbose, /^cpvol\s+0\s+\d/m, `${cli}: ${verbose}`);
    }
    ok(await d.docker(['rm', 'user']), d);
  });

  it('a tmpfs volume used by a running container stays mounted across a hakod restart until its last user stops', async () => {
    ok(await d.docker(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=1m', 'shared']), d);
    ok(await d.docker(['run', '-d', '--name', 'keeper', '-v', 'shared:/v', 'busybox', 'sh', '-c', 'echo kept > /v/f; exec sleep 300']), d);
    assert.equal(ok(await d.docker(['exec', 'keeper', 'cat', '/v/f']), d), 'kept\n');
    await d.kill9();
    await d.restart();
    // Another container comes and goes: the volume must not be unmounted under keeper.
    assert.equal(ok(await d.docker(['run', '--rm', '-v', 'shared:/v', 'busybox', 'cat', '/v/f']), d), 'kept\n');
    assert.equal(ok(await d.docker(['run', '--rm', '-v', 'shared:/v', 'busybox', 'cat', '/v/f']), d), 'kept\n');
    ok(await d.docker(['rm', '-f', 'keeper']), d);
    ok(await d.docker(['volume', 'rm', 'shared']), d);
  });
});
