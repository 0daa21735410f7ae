/**
 * Images with gzip layers, made here by hand (gzip'ed layer tars, an OCI manifest, blobs uploaded
 * to hako's registry server over HTTP) and pulled and run with the hako CLI against a real hakod;
 * pull's progress bars under a real pty (`script` from util-linux); push sending gzip layers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { makeBusyboxTar } from '../../support/busybox.js';
import { REPO_ROOT, run, startHakod, type Hakod } from '../../support/hakod.js';
import { startHakoRegistry, type Running } from './helpers.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function request(host: string, method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`http://${host}${path}`, { method, headers: { ...headers, 'Content-Length': String(body?.length ?? 0) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function putBlob(host: string, repo: string, blob: Buffer): Promise<void> {
  const start = await request(host, 'POST', `/v2/${repo}/blobs/uploads/`);
  assert.equal(start.status, 202, start.body.toString());
  const loc = new URL(String(start.headers.location), `http://${host}`);
  loc.searchParams.set('digest', sha(blob));
  const put = await request(host, 'PUT', loc.pathname + loc.search, blob, { 'Content-Type': 'application/octet-stream' });
  assert.equal(put.status, 201, put.body.toString());
}

/** A layer tar holding one file. */
function fileLayer(dir: string, name: string, content: string): Buffer {
  const src = mkdtempSync(join(dir, 'layer-'));
  writeFileSync(join(src, name), content);
  const tar = join(dir, `${name}.tar`);
  execFileSync('tar', ['-C', src, '--numeric-owner', '--owner=0', '--group=0', '-cf', tar, name]);
  return readFileSync(tar);
}

/** Uploads an image whose layers are `tars` gzip'ed, under an OCI manifest; returns its digests. */
async function pushGzipImage(host: string, repo: string, tag: string, tars: Buffer[], cmd: string[]): Promise<{ manifest: string; layers: string[]; diffIds: string[] }> {
  const blobs = tars.map((t) => gzipSync(t));
  for (const b of blobs) await putBlob(host, repo, b);
  const diffIds = tars.map(sha);
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2026-01-01T00:00:00Z',
    config: { Cmd: cmd, Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: tars.map(() => ({ created: '2026-01-01T00:00:00Z', created_by: 'gzip-image.test' })),
  }));
  await putBlob(host, repo, config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: config.length, digest: sha(config) },
    layers: blobs.map((b) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: b.length, digest: sha(b) })),
  }));
  const put = await request(host, 'PUT', `/v2/${repo}/manifests/${tag}`, manifest, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' });
  assert.equal(put.status, 201, put.body.toString());
  return { manifest: sha(manifest), layers: blobs.map(sha), diffIds };
}

describe('images with gzip layers', () => {
  let hakod: Hakod;
  let reg: Running;
  let dir: string;
  let busyboxTar: Buffer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hako-gzip-image-'));
    // A tarball of its own, not the shared one hakod imported busybox:latest from: its layer must
    // be new to the daemon, so the pull downloads it ("Pull complete", not "Already exists").
    busyboxTar = readFileSync(makeBusyboxTar(join(dir, 'busybox.tar')));
    reg = await startHakoRegistry();
    hakod = await startHakod();
  });
  after(async () => {
    await hakod?.stop();
    await reg?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an image made of gzip layers pulls and runs, its layers verified by diff id', async () => {
    const img = await pushGzipImage(reg.host, 'gz/app', '1.0', [busyboxTar, fileLayer(dir, 'hello.txt', 'hello from a gzip layer\n')], ['cat', '/hello.txt']);
    const ref = `${reg.host}/gz/app:1.0`;
    const pull = await hakod.hako(['pull', ref], { timeoutMs: 60_000 });
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, /^1\.0: Pulling from gz\/app$/m);
    for (const l of img.layers) assert.match(pull.stdout, new RegExp(`^${l.slice(7, 19)}: Pull complete$`, 'm'));
    assert.match(pull.stdout, new RegExp(`^Digest: ${img.manifest}$`, 'm'));
    assert.match(pull.stdout, new RegExp(`^Status: Downloaded newer image for ${ref.replace(/\./g, '\\.')}$`, 'm'));
    const layers = await hakod.hako(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', ref]);
    assert.deepEqual(JSON.parse(layers.stdout), img.diffIds);
    const ran = await hakod.hako(['run', '--rm', ref], { timeoutMs: 30_000 });
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout, 'hello from a gzip layer\n');
  });

  it('pull on a terminal draws docker\'s per-layer lines: Waiting, Downloading bars, Pull complete', async () => {
    // Four new layers: the fourth waits for one of the three download slots (max-concurrent-downloads).
    const tars = [1, 2, 3, 4].map((i) => fileLayer(dir, `f${i}.txt`, `${i}\n`.repeat(20_000 * i)));
    const img = await pushGzipImage(reg.host, 'gz/tty', 'v1', tars, ['cat', '/f1.txt']);
    const ref = `${reg.host}/gz/tty:v1`;
    const line = [process.execPath, join(REPO_ROOT, 'bin/hako'), '-H', hakod.host, 'pull', ref].map((a) => `'${a}'`).join(' ');
    const res = await run('script', ['-qfec', line, '/dev/null'], { timeoutMs: 60_000 });
    assert.equal(res.code, 0, res.stdout + res.stderr);
    const out = res.stdout;
    // Each layer keeps a line of its own, rewritten in place: erase line, carriage return.
    assert.ok(out.includes('\x1b[2K\r'), JSON.stringify(out));
    const ids = img.layers.map((l) => l.slice(7, 19));
    for (const id of ids) {
      assert.ok(out.includes(`${id}: Pulling fs layer`), `${id} Pulling fs layer: ${JSON.stringify(out)}`);
      assert.match(out, new RegExp(`${id}: Downloading \\[[=> ]{50}\\] +[0-9.]+k?B/[0-9.]+[kM]?B`), `${id} bar: ${JSON.stringify(out)}`);
      // Docker's order per layer: the download verified and complete, then the layer unpacked.
      const order = ['Pulling fs layer', 'Verifying Checksum', 'Download complete', 'Pull complete'].map((s) => out.indexOf(`${id}: ${s}`));
      assert.ok(order.every((at, i) => at >= 0 && (i === 0 || at > (order[i - 1] as number))), `${id} ${order.join(',')}: ${JSON.stringify(out)}`);
    }
    assert.ok(out.includes(`${ids[3]}: Waiting`), JSON.stringify(out));
    // The lines without an id come last, one each, as docker prints them.
    const plain = out.replace(/\x1b\[[0-9]*[ABK]/g, '').split(/\r?\n|\r/);
    assert.ok(plain.includes(`Digest: ${img.manifest}`), JSON.stringify(plain));
    assert.equal(plain.filter((l) => l.startsWith('Status: ')).at(-1), `Status: Downloaded newer image for ${ref}`);

    // Without a terminal: status lines only, no bars, no escapes.
    await hakod.hako(['rmi', ref]);
    const piped = await hakod.hako(['pull', ref], { timeoutMs: 60_000 });
    assert.equal(piped.code, 0, piped.stderr);
    assert.ok(!piped.stdout.includes('\x1b'), piped.stdout);
    assert.ok(!piped.stdout.includes('['), piped.stdout);
    assert.match(piped.stdout, new RegExp(`^${ids[3]}: Waiting$`, 'm'));
  });

  it('push sends uncompressed layers gzip\'ed (docker\'s media type) and keeps the blob for the next push', async () => {
    const ref = `${reg.host}/pushed/busybox:1`;
    assert.equal((await hakod.hako(['tag', 'busybox:latest', ref])).code, 0);
    const push = await hakod.hako(['push', ref], { timeoutMs: 60_000 });
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stdout, /: Pushed$/m);
    const man = await request(reg.host, 'GET', '/v2/pushed/busybox/manifests/1', undefined, { Accept: 'application/vnd.docker.distribution.manifest.v2+json' });
    assert.equal(man.status, 200);
    const manifest = JSON.parse(man.body.toString()) as { mediaType: string; layers: Array<{ mediaType: string; digest: string; size: number }>; config: { digest: string } };
    assert.equal(manifest.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    const layer = manifest.layers[0] as { mediaType: string; digest: string; size: number };
    assert.equal(layer.mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
    const blob = await request(reg.host, 'GET', `/v2/pushed/busybox/blobs/${layer.digest}`);
    assert.equal(blob.body[0], 0x1f);
    assert.equal(blob.body[1], 0x8b);
    assert.equal(blob.body.length, layer.size);
    assert.ok(layer.size < busyboxTar.length * 0.8, `${layer.size} bytes gzip'ed of ${busyboxTar.length}`);
    const config = JSON.parse((await request(reg.host, 'GET', `/v2/pushed/busybox/blobs/${manifest.config.digest}`)).body.toString()) as { rootfs: { diff_ids: string[] } };
    assert.equal(sha(gunzipSync(blob.body)), config.rootfs.diff_ids[0]);

    // The gzip blob is now the layer's stored blob; the uncompressed one is gone.
    const blobs = join(hakod.dataRoot, 'content/blobs/sha256');
    const stored = async (d: string) => {
      // Storing happens after the push answered; the next push waits for it, a test polls.
      for (let i = 0; i < 100 && !existsSync(join(blobs, d.slice(7))); i++) await new Promise((r) => setTimeout(r, 50));
      return existsSync(join(blobs, d.slice(7)));
    };
    assert.ok(await stored(layer.digest), 'the compressed blob is kept');
    assert.ok(!existsSync(join(blobs, (config.rootfs.diff_ids[0] as string).slice(7))), 'the uncompressed blob was replaced');

    // A second push to another repository sends the same blob (mounted), not a new compression.
    const other = `${reg.host}/other/busybox:1`;
    await hakod.hako(['tag', 'busybox:latest', other]);
    const again = await hakod.hako(['push', other], { timeoutMs: 60_000 });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /: Mounted from pushed\/busybox$/m);
    const man2 = JSON.parse((await request(reg.host, 'GET', '/v2/other/busybox/manifests/1', undefined, { Accept: 'application/vnd.docker.distribution.manifest.v2+json' })).body.toString()) as { layers: Array<{ digest: string }> };
    assert.equal(man2.layers[0]?.digest, layer.digest);

    // save still writes the uncompressed layer, under its diff id.
    const saved = join(dir, 'saved.tar');
    assert.equal((await hakod.hako(['save', '-o', saved, 'busybox:latest'])).code, 0);
    const entry = execFileSync('tar', ['-xOf', saved, `blobs/sha256/${(config.rootfs.diff_ids[0] as string).slice(7)}`], { maxBuffer: 64 << 20 });
    assert.equal(sha(entry), config.rootfs.diff_ids[0]);
  });
});
