/**
 * The real docker CLI against hakod: images in and out: save / rmi / load, export | import,
 * commit, tag, and what a user sees when a tarball is not an image.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { startHakod, type Hakod } from '../support/hakod.js';
import { ok, exits, fails } from './expect.js';

describe('docker CLI image commands against hakod', () => {
  let d: Hakod;
  const work = mkdtempSync(join(tmpdir(), 'hako-compat-img-'));
  before(async () => { d = await startHakod(); });
  after(async () => {
    try { await d?.stop(); } finally { rmSync(work, { recursive: true, force: true }); }
  });

  const imageId = async (ref: string) => ok(await d.docker(['image', 'inspect', ref, '--format', '{{.Id}}']), d).trim();

  it('docker images lists busybox in the standard table', async () => {
    const out = ok(await d.docker(['images']), d);
    const [header, ...rows] = out.trimEnd().split('\n');
    assert.match(header ?? '', /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assert.ok(rows.some((r) => /^busybox\s+latest\s+[0-9a-f]{12}\s+/.test(r)), out);
  });

  it('docker save, rmi, then load brings the image back with the same id', async () => {
    const id = await imageId('busybox');
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    const tar = join(work, 'busybox.tar');
    const saved = await d.docker(['save', '-o', tar, 'busybox'], { timeoutMs: 60_000 });
    exits(saved, 0, undefined, d);
    assert.ok(statSync(tar).size > 100_000, 'the archive holds the layer');
    const entries = execFileSync('tar', ['-tf', tar]).toString().split('\n');
    assert.ok(entries.includes('manifest.json'), entries.join(' '));

    const rmi = await d.docker(['rmi', 'busybox']);
    exits(rmi, 0, undefined, d);
    assert.match(rmi.stdout, /^Untagged: busybox:latest$/m);
    assert.match(rmi.stdout, new RegExp(`^Deleted: ${id}$`, 'm'));
    assert.equal(ok(await d.docker(['images', '-q']), d), '');
    fails(await d.docker(['image', 'inspect', 'busybox']), /No such image: busybox/i, d);

    const loaded = await d.docker(['load', '-i', tar], { timeoutMs: 60_000 });
    exits(loaded, 0, undefined, d);
    assert.match(loaded.stdout, /Loaded image: busybox:latest/);
    assert.equal(await imageId('busybox'), id);
    assert.equal(ok(await d.docker(['run', '--rm', 'busybox', 'echo', 'back']), d), 'back\n');
  });

  it('docker load from stdin works like -i', async () => {
    ok(await d.docker(['tag', 'busybox', 'viastdin:1']), d);
    ok(await d.docker(['save', '-o', join(work, 'viastdin.tar'), 'viastdin:1']), d);
    ok(await d.docker(['rmi', 'viastdin:1']), d);
    const r = await d.docker(['load'], { input: readFileSync(join(work, 'viastdin.tar')), timeoutMs: 60_000 });
    exits(r, 0, undefined, d);
    assert.match(r.stdout, /Loaded image: viastdin:1/);
    assert.equal(await imageId('viastdin:1'), await imageId('busybox'));
    ok(await d.docker(['rmi', 'viastdin:1']), d);
  });

  it('docker load of a corrupt tarball fails with a clear message and changes nothing', async () => {
    const before = ok(await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']), d);
    const garbage = join(work, 'garbage.tar');
    writeFileSync(garbage, Buffer.from('this is not a tar archive at all\n'.repeat(64)));
    const r1 = await d.docker(['load', '-i', garbage]);
    fails(r1, /tar|archive|manifest|invalid/i, d);
    assert.doesNotMatch(r1.stderr, /Internal Server Error|\bat \w+ \(/, 'no stack traces or bare 500s');

    const whole = readFileSync(join(work, 'busybox.tar'));
    const truncated = join(work, 'truncated.tar');
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    fails(await d.docker(['load', '-i', truncated]), /tar|archive|unexpected|truncated|EOF|manifest|invalid/i, d);

    assert.equal(ok(await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']), d), before);
  });

  it('docker export | docker import - makes an image of the container\'s filesystem', async () => {
    exits(await d.docker(['run', '--name', 'exsrc', 'busybox', 'sh', '-c', 'echo exported > /marker']), 0, undefined, d);
    const r = await d.shell('docker export exsrc | docker import - exported:1', { timeoutMs: 60_000 });
    exits(r, 0, undefined, d);
    assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(ok(await d.docker(['run', '--rm', 'exported:1', 'cat', '/marker']), d), 'exported\n');
    const out = join(work, 'export.tar');
    ok(await d.docker(['export', '-o', out, 'exsrc']), d);
    const entries = execFileSync('tar', ['-tf', out]).toString().split('\n').map((e) => e.replace(/^\.\//, ''));
    assert.ok(entries.includes('marker') && entries.includes('bin/busybox'), entries.slice(0, 20).join(' '));
    ok(await d.docker(['rm', 'exsrc']), d);
  });

  it('docker commit makes an image with the file the container wrote', async () => {
    exits(await d.docker(['run', '--name', 'cm', 'busybox', 'sh', '-c', 'echo committed > /data.txt']), 0, undefined, d);
    const r = await d.docker(['commit', 'cm', 'committed:1'], { timeoutMs: 60_000 });
    exits(r, 0, undefined, d);
    assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(ok(await d.docker(['run', '--rm', 'committed:1', 'cat', '/data.txt']), d), 'committed\n');

    ok(await d.docker(['commit', '-c', 'CMD ["cat", "/data.txt"]', '-c', 'ENV FLAVOUR=plain', 'cm', 'committed:2']), d);
    assert.equal(ok(await d.docker(['run', '--rm', 'committed:2']), d), 'committed\n');
    assert.equal(ok(await d.docker(['run', '--rm', 'committed:2', 'sh', '-c', 'echo $FLAVOUR']), d), 'plain\n');
    const history = ok(await d.docker(['history', 'committed:2']), d);
    assert.match(history, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/m);
  });

  it('docker rmi of a tag only untags; of an image a container uses it refuses', async () => {
    ok(await d.docker(['tag', 'busybox', 'mine:2']), d);
    const r = await d.docker(['rmi', 'mine:2']);
    exits(r, 0, undefined, d);
    assert.equal(r.stdout, 'Untagged: mine:2\n');
    ok(await d.docker(['image', 'inspect', 'busybox']), d);
    // busybox:latest is now the image's only tag, and the stopped container cm was made from it.
    fails(await d.docker(['rmi', 'busybox']), /conflict|being used|is using/i, d);
    ok(await d.docker(['rm', 'cm']), d);
  });
});
