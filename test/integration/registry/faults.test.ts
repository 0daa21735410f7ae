/**
 * Bad input between registry and engine: each fault gives a clear error, leaves no image and no
 * downloaded blob behind, and the same pull succeeds once the fault is gone. A proxy in front of
 * hako's registry corrupts, truncates or hides blobs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { startTestEngine, type TestEngine } from '../../support/engine.js';
import { freePort, listen, recorder, startHakoRegistry, type Running } from './helpers.js';

type Mode = 'pass' | 'corrupt' | 'truncate-once' | 'truncate-always' | 'missing' | 'stall';

describe('pull faults: corrupt, truncated and missing blobs, a registry that is down', () => {
  let te: TestEngine;
  let reg: Running;
  let proxy: http.Server;
  let proxyHost: string;
  let mode: Mode = 'pass';
  const ranges: string[] = [];
  let layerDigest = '';
  /** In 'stall' mode the proxy holds a layer's last KiB until this is called. */
  let release: () => void = () => {};

  before(async () => {
    te = await startTestEngine();
    reg = await startHakoRegistry();
    proxy = http.createServer((req, res) => {
      const isLayer = req.method === 'GET' && layerDigest !== '' && (req.url ?? '').endsWith(`/blobs/${layerDigest}`);
      if (isLayer && req.headers.range) ranges.push(req.headers.range);
      if (isLayer && mode === 'missing') {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}');
        return;
      }
      const up = http.request({ host: '127.0.0.1', port: reg.port, path: req.url, method: req.method, headers: req.headers }, (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        if (!isLayer || mode === 'pass' || (mode === 'truncate-once' && req.headers.range)) { ur.pipe(res); return; }
        let sent = 0;
        const half = Number(ur.headers['content-length'] ?? 0) / 2;
        if (mode === 'stall') {
          const chunks: Buffer[] = [];
          ur.on('data', (c: Buffer) => chunks.push(c));
          ur.on('end', () => {
            const all = Buffer.concat(chunks);
            res.write(all.subarray(0, all.length - 1024));
            release = () => res.end(all.subarray(all.length - 1024));
          });
          return;
        }
        ur.on('data', (chunk: Buffer) => {
          if (mode === 'corrupt') {
            const c = Buffer.from(chunk);
            if (sent === 0) c[c.length - 1] = (c[c.length - 1] ?? 0) ^ 0xff;
            sent += c.length;
            res.write(c);
            return;
          }
          // Truncation: send half, then cut the connection.
          if (sent + chunk.length >= half) {
            res.write(chunk.subarray(0, Math.max(0, Math.floor(half - sent))));
            res.socket?.destroy();
            ur.destroy();
            return;
          }
          sent += chunk.length;
          res.write(chunk);
        });
        ur.on('end', () => res.end());
      });
      req.pipe(up);
    });
    proxyHost = `127.0.0.1:${await listen(proxy)}`;
    // The image the faults are played on, pushed straight to the registry.
    await te.engine.images.tag('busybox:latest', `${reg.host}/f/bb`, '1');
    await te.engine.registry.push(`${reg.host}/f/bb:1`, { progress: () => {} });
    const manifest = await (await fetch(`http://${reg.host}/v2/f/bb/manifests/1`)).json() as { layers: Array<{ digest: string }> };
    layerDigest = (manifest.layers[0] as { digest: string }).digest;
    await te.engine.images.remove('busybox:latest', { force: true });
    await te.engine.images.remove(`${reg.host}/f/bb:1`, { force: true });
  });
  after(async () => {
    proxy?.closeAllConnections();
    await new Promise((r) => proxy?.close(r));
    await reg?.close();
    await te?.close();
  });

  const blobs = () => { try { return readdirSync(join(te.dataRoot, 'content', 'blobs', 'sha256')); } catch { return []; } };
  const noImage = async (ref: string) => {
    assert.deepEqual(await te.engine.images.list({}), [], 'no image was stored');
    assert.deepEqual(blobs(), [], `no blob was stored (${ref})`);
    assert.deepEqual(readdirSync(join(te.dataRoot, 'tmp')).filter((n) => n.startsWith('pull-')), [], 'no partial download left');
    assert.deepEqual(layerDirs(), [], `no layer was left unpacked (${ref})`);
  };
  /** Unpacked layers and layers being unpacked. */
  const layerDirs = () => {
    const ls = (d: string) => { try { return readdirSync(d); } catch { return []; } };
    const root = join(te.dataRoot, 'overlay');
    return [...ls(root).filter((n) => !['l', 'tmp', 'empty'].includes(n)), ...ls(join(root, 'tmp')).map((n) => `tmp/${n}`)];
  };

  it('a layer unpacks while it downloads: its files are on disk before its last bytes arrive, and commit after', async () => {
    mode = 'stall';
    release = () => {};
    const pulling = te.engine.registry.pull(`${proxyHost}/f/bb:1`, { progress: () => {} });
    pulling.catch(() => {});
    try {
      const unpacking = join(te.dataRoot, 'overlay', 'tmp');
      let seen = false;
      for (let i = 0; i < 500 && !seen; i++) {
        seen = readdirSync(unpacking, { withFileTypes: true }).some((d) => {
          try { return readdirSync(join(unpacking, d.name, 'diff', 'bin')).includes('busybox'); } catch { return false; }
        });
        if (!seen) await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(seen, 'bin/busybox was unpacked while the blob was still downloading');
      assert.deepEqual(await te.engine.images.list({}), [], 'no image before the download verified');
      assert.deepEqual(layerDirs().filter((n) => !n.startsWith('tmp/')), [], 'no layer committed before the download verified');
    } finally {
      mode = 'pass';
      release();
    }
    await pulling;
    assert.equal((await te.engine.images.list({})).length, 1);
    await te.engine.images.remove(`${proxyHost}/f/bb:1`, { force: true });
    await noImage('after removal');
  });

  it('a layer whose content does not match its diff id in the config is refused and nothing is stored', async () => {
    const base = `http://${reg.host}/v2/f/bb`;
    const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
    const accept = { Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' };
    const res = await fetch(`${base}/manifests/1`, { headers: accept });
    const type = res.headers.get('content-type') ?? '';
    const doc = await res.json() as { config: { digest: string; size: number } };
    const cfg = JSON.parse(Buffer.from(await (await fetch(`${base}/blobs/${doc.config.digest}`)).arrayBuffer()).toString()) as { rootfs: { diff_ids: string[] } };
    cfg.rootfs.diff_ids = [`sha256:${'0'.repeat(64)}`];
    const bad = Buffer.from(JSON.stringify(cfg));
    assert.equal((await fetch(`${base}/blobs/uploads/?digest=${sha(bad)}`, { method: 'POST', body: bad })).status, 201);
    const manifest = Buffer.from(JSON.stringify({ ...doc, config: { ...doc.config, digest: sha(bad), size: bad.length } }));
    assert.equal((await fetch(`${base}/manifests/baddiff`, { method: 'PUT', body: manifest, headers: { 'Content-Type': type } })).status, 201);
    mode = 'pass';
    await assert.rejects(te.engine.registry.pull(`${proxyHost}/f/bb:baddiff`, { progress: () => {} }),
      (e: Error & { status?: number }) => e.status === 400 && /(diff ID mismatch: expected|does not match the diff id) sha256:0{64}/.test(e.message));
    await noImage('diff id mismatch');
  });

  it('a blob whose digest does not match is refused and nothing is stored', async () => {
    mode = 'corrupt';
    await assert.rejects(te.engine.registry.pull(`${proxyHost}/f/bb:1`, { progress: () => {} }),
      (e: Error & { status?: number }) => e.status === 400 && /digest mismatch: expected sha256:/.test(e.message));
    await noImage('corrupt');
  });

  it('a blob the registry does not have is named in the error', async () => {
    mode = 'missing';
    await assert.rejects(te.engine.registry.pull(`${proxyHost}/f/bb:1`, { progress: () => {} }),
      (e: Error & { status?: number }) => e.status === 404 && e.message.includes(layerDigest) && /does not have \(blob unknown\)/.test(e.message));
    await noImage('missing');
  });

  it('a download cut every time fails after the retries, with how far it got', async () => {
    mode = 'truncate-always';
    await assert.rejects(te.engine.registry.pull(`${proxyHost}/f/bb:1`, { progress: () => {} }),
      (e: Error) => /download failed after \d+ attempts at \d+ of \d+ bytes/.test(e.message));
    await noImage('truncated');
  });

  it('a download cut once resumes with a Range request and the pull completes', async () => {
    mode = 'truncate-once';
    ranges.length = 0;
    const rec = recorder();
    await te.engine.registry.pull(`${proxyHost}/f/bb:1`, { progress: rec.progress });
    assert.ok(ranges.some((r) => /^bytes=[1-9]\d*-$/.test(r)), `resumed with a range: ${ranges.join(', ')}`);
    assert.ok(rec.statuses().includes('Pull complete'));
    const img = await te.engine.images.inspect(`${proxyHost}/f/bb:1`);
    assert.match(String(img.Id), /^sha256:/);
    await te.engine.images.remove(`${proxyHost}/f/bb:1`, { force: true });
    await noImage('after removal');
  });

  it('a registry that is down gives a clear error; a retry once it is up succeeds', async () => {
    const port = await freePort();
    await assert.rejects(te.engine.registry.pull(`127.0.0.1:${port}/f/bb:1`, { progress: () => {} }),
      (e: Error & { status?: number }) => e.status === 503 && /registry 127\.0\.0\.1:\d+ is not reachable .*is it running/.test(e.message));
    await noImage('down');
    mode = 'pass';
    await te.engine.registry.pull(`${proxyHost}/f/bb:1`, { progress: () => {} });
    assert.equal((await te.engine.images.list({})).length, 1);
  });

  it('a multi-platform index resolves to linux/amd64, or to the --platform asked for', async () => {
    const base = `http://${reg.host}/v2/f/bb`;
    const put = async (path: string, body: Buffer, type: string) => {
      const r = await fetch(`${base}${path}`, { method: 'PUT', body, headers: { 'Content-Type': type } });
      assert.equal(r.status, 201, await r.text());
    };
    const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
    const amd = Buffer.from(await (await fetch(`${base}/manifests/1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } })).arrayBuffer());
    const amdDoc = JSON.parse(amd.toString()) as { config: { digest: string; size: number; mediaType: string } };
    // An arm64 sibling: same layers, a config saying arm64.
    const cfg = JSON.parse(Buffer.from(await (await fetch(`${base}/blobs/${amdDoc.config.digest}`)).arrayBuffer()).toString()) as Record<string, unknown>;
    const armCfg = Buffer.from(JSON.stringify({ ...cfg, architecture: 'arm64' }));
    const up = await fetch(`${base}/blobs/uploads/?digest=${sha(armCfg)}`, { method: 'POST', body: armCfg });
    assert.equal(up.status, 201);
    const arm = Buffer.from(JSON.stringify({ ...JSON.parse(amd.toString()), config: { ...amdDoc.config, digest: sha(armCfg), size: armCfg.length } }));
    const mt = (JSON.parse(amd.toString()) as { mediaType: string }).mediaType;
    await put(`/manifests/${sha(arm)}`, arm, mt);
    const index = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: mt, digest: sha(arm), size: arm.length, platform: { os: 'linux', architecture: 'arm64' } },
        { mediaType: mt, digest: sha(amd), size: amd.length, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    }));
    await put('/manifests/multi', index, 'application/vnd.oci.image.index.v1+json');
    await te.engine.registry.pull(`${reg.host}/f/bb:multi`, { progress: () => {} });
    const img = await te.engine.images.inspect(`${reg.host}/f/bb:multi`);
    assert.equal(img.Id, amdDoc.config.digest);
    assert.equal(img.Architecture, 'amd64');
    assert.ok((img.RepoDigests as string[]).includes(`${reg.host}/f/bb@${sha(index)}`), 'the repo digest is the index digest');
    await te.engine.registry.pull(`${reg.host}/f/bb:multi`, { platform: 'linux/arm64', progress: () => {} });
    assert.equal((await te.engine.images.inspect(`${reg.host}/f/bb:multi`)).Architecture, 'arm64');
    await assert.rejects(te.engine.registry.pull(`${reg.host}/f/bb:multi`, { platform: 'linux/s390x', progress: () => {} }),
      /no matching manifest for linux\/s390x in the manifest list entries/);
  });
});
