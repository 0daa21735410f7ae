/** hako registry serve speaks the distribution spec: uploads, mounts, manifests, tags, catalog, deletes, auth. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { htpasswdFile, startHakoRegistry } from './helpers.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('hako registry serve', () => {
  let reg: Awaited<ReturnType<typeof startHakoRegistry>>;
  let base: string;
  before(async () => {
    reg = await startHakoRegistry();
    base = `http://${reg.host}/v2`;
  });
  after(async () => { await reg?.close(); });

  const upload = async (repo: string, data: Buffer): Promise<string> => {
    const r = await fetch(`${base}/${repo}/blobs/uploads/?digest=${sha(data)}`, { method: 'POST', body: data });
    assert.equal(r.status, 201);
    return sha(data);
  };

  it('answers /v2/ with the API version header', async () => {
    const r = await fetch(`${base}/`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('docker-distribution-api-version'), 'registry/2.0');
  });

  it('takes a chunked upload, reports its progress, refuses a wrong digest and a chunk out of order', async () => {
    const data = Buffer.from('0123456789abcdef');
    const start = await fetch(`${base}/c/x/blobs/uploads/`, { method: 'POST' });
    assert.equal(start.status, 202);
    const loc = new URL(String(start.headers.get('location')), base).href;
    const p1 = await fetch(loc, { method: 'PATCH', body: data.subarray(0, 10), headers: { 'Content-Range': '0-9' } });
    assert.equal(p1.status, 202);
    assert.equal(p1.headers.get('range'), '0-9');
    const bad = await fetch(loc, { method: 'PATCH', body: data.subarray(10), headers: { 'Content-Range': '5-10' } });
    assert.equal(bad.status, 416);
    const status = await fetch(loc);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-9');
    const wrong = await fetch(`${loc}?digest=${sha(Buffer.from('other'))}`, { method: 'PUT', body: data.subarray(10) });
    assert.equal(wrong.status, 400);
    assert.equal(((await wrong.json()) as { errors: Array<{ code: string }> }).errors[0]?.code, 'DIGEST_INVALID');
    // The failed upload is gone; a new one completes.
    const again = await fetch(`${base}/c/x/blobs/uploads/`, { method: 'POST' });
    const loc2 = new URL(String(again.headers.get('location')), base).href;
    await fetch(loc2, { method: 'PATCH', body: data.subarray(0, 10) });
    const done = await fetch(`${loc2}?digest=${sha(data)}`, { method: 'PUT', body: data.subarray(10) });
    assert.equal(done.status, 201);
    const got = await fetch(`${base}/c/x/blobs/${sha(data)}`, { headers: { Range: 'bytes=4-' } });
    assert.equal(got.status, 206);
    assert.equal(await got.text(), '456789abcdef');
  });

  it('is safe when two clients push the same blob at once, and mounts it across repositories', async () => {
    const data = Buffer.alloc(1 << 20, 7);
    await Promise.all([upload('a/one', data), upload('a/two', data), upload('a/one', data)]);
    assert.equal((await fetch(`${base}/a/three/blobs/${sha(data)}`, { method: 'HEAD' })).status, 404, 'a blob is visible only where it was pushed or mounted');
    const m = await fetch(`${base}/a/three/blobs/uploads/?mount=${sha(data)}&from=a/one`, { method: 'POST' });
    assert.equal(m.status, 201);
    assert.equal((await fetch(`${base}/a/three/blobs/${sha(data)}`, { method: 'HEAD' })).status, 200);
    assert.deepEqual(readdirSync(join(reg.root, 'uploads')), []);
  });

  it('stores manifests by tag and digest, refuses one naming a missing blob, lists tags and the catalog with pagination, deletes', async () => {
    const cfg = await upload('m/app', Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'));
    const manifest = (c: string) => Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: c, size: 1 }, layers: [] }));
    const missing = await fetch(`${base}/m/app/manifests/bad`, { method: 'PUT', body: manifest(`sha256:${'0'.repeat(64)}`), headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(missing.status, 400);
    assert.equal(((await missing.json()) as { errors: Array<{ code: string }> }).errors[0]?.code, 'MANIFEST_BLOB_UNKNOWN');
    for (const t of ['c', 'a', 'b']) {
      const r = await fetch(`${base}/m/app/manifests/${t}`, { method: 'PUT', body: manifest(cfg), headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
      assert.equal(r.status, 201);
      assert.equal(r.headers.get('docker-content-digest'), sha(manifest(cfg)));
    }
    const byDigest = await fetch(`${base}/m/app/manifests/${sha(manifest(cfg))}`);
    assert.equal(byDigest.headers.get('content-type'), 'application/vnd.oci.image.manifest.v1+json');
    const page1 = await fetch(`${base}/m/app/tags/list?n=2`);
    assert.deepEqual(await page1.json(), { name: 'm/app', tags: ['a', 'b'] });
    assert.match(String(page1.headers.get('link')), /<\/v2\/m\/app\/tags\/list\?n=2&last=b>; rel="next"/);
    assert.deepEqual(await (await fetch(`${base}/m/app/tags/list?n=2&last=b`)).json(), { name: 'm/app', tags: ['c'] });
    const catalog = (await (await fetch(`${base}/_catalog`)).json()) as { repositories: string[] };
    assert.ok(catalog.repositories.includes('m/app') && catalog.repositories.includes('a/one'), JSON.stringify(catalog));
    assert.equal((await fetch(`${base}/m/app/manifests/a`, { method: 'DELETE' })).status, 202);
    assert.equal((await fetch(`${base}/m/app/manifests/a`)).status, 404);
    assert.equal((await fetch(`${base}/m/app/manifests/${sha(manifest(cfg))}`, { method: 'DELETE' })).status, 202);
    assert.deepEqual(await (await fetch(`${base}/m/app/tags/list`)).json(), { name: 'm/app', tags: [] });
    assert.equal((await fetch(`${base}/nope/tags/list`)).status, 404);
  });

  it('with --htpasswd, requires Basic auth and answers 401 with a challenge', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hako-regauth-'));
    const authed = await startHakoRegistry({ htpasswd: htpasswdFile(dir, 'u', 'p') });
    try {
      const anon = await fetch(`http://${authed.host}/v2/`);
      assert.equal(anon.status, 401);
      assert.equal(anon.headers.get('www-authenticate'), 'Basic realm="hako-registry"');
      const wrong = await fetch(`http://${authed.host}/v2/`, { headers: { Authorization: `Basic ${Buffer.from('u:x').toString('base64')}` } });
      assert.equal(wrong.status, 401);
      const right = await fetch(`http://${authed.host}/v2/`, { headers: { Authorization: `Basic ${Buffer.from('u:p').toString('base64')}` } });
      assert.equal(right.status, 200);
    } finally {
      await authed.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
