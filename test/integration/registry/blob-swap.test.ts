/**
 * A layer's stored blob is swapped from its uncompressed tar to the gzip blob a push made
 * (images' useCompressedBlob): saves and pushes running meanwhile still read the layer, the
 * content store keeps one blob per layer, and a manifest listing one blob twice downloads it once.
 * Real storage in a temp root, hako's registry server on 127.0.0.1; the swap is made to happen at
 * the racy moment by a content store that runs it when a given blob is opened.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { createImageService, type HakoImageService } from '../../../src/images/index.js';
import { createRegistryServer, RegistryService } from '../../../src/registry/index.js';
import { ContentStore, LayerStore, openMetadataDb, type MetadataDb } from '../../../src/storage/index.js';
import { listen, recorder } from './helpers.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

/** A real content store that runs a hook the first time a given blob is opened. */
class HookedContent extends ContentStore {
  readonly onOpen = new Map<string, () => Promise<void>>();
  override async createReadStream(digest: string, opts: { start?: number; end?: number; highWaterMark?: number } = {}) {
    const hook = this.onOpen.get(digest);
    if (hook) {
      this.onOpen.delete(digest);
      await hook();
    }
    return super.createReadStream(digest, opts);
  }
}

interface Store {
  root: string;
  db: MetadataDb;
  content: HookedContent;
  images: HakoImageService;
  registry: RegistryService;
  close(): void;
}

function makeStore(parent: string, name: string): Store {
  const root = join(parent, name);
  mkdirSync(join(root, 'tmp'), { recursive: true });
  const db = openMetadataDb(join(root, 'metadata.db'));
  const content = new HookedContent(join(root, 'content'));
  const layers = new LayerStore({ root: join(root, 'overlay'), db });
  const tmpDir = join(root, 'tmp');
  const images = createImageService({ db, content, layers, containersUsingImage: () => [], tmpDir });
  const registry = new RegistryService({ content, images, tmpDir });
  return { root, db, content, images, registry, close: () => db.close() };
}

/** A layer tar holding one file of `bytes` random bytes. */
function layerTar(dir: string, name: string, bytes: number): Buffer {
  const src = mkdtempSync(join(dir, 'layer-'));
  writeFileSync(join(src, name), randomBytes(bytes));
  const tar = join(dir, `${name}.tar`);
  execFileSync('tar', ['-C', src, '--numeric-owner', '--owner=0', '--group=0', '-cf', tar, name]);
  return readFileSync(tar);
}

/** What a push does once the registry took the gzip blob: store it and make it the layer's blob. */
async function swapToGzip(s: Store, tar: Buffer): Promise<string> {
  const gz = gzipSync(tar);
  const { digest } = await s.content.put(gz);
  await s.images.useCompressedBlob(sha(tar), { digest, mediaType: GZIP });
  return digest;
}

async function blobs(s: Store): Promise<string[]> {
  return (await s.content.list()).map((b) => b.digest).sort();
}

describe('swapping a layer blob for its gzip blob', () => {
  let dir: string;
  let server: http.Server;
  let host: string;
  const requests: string[] = [];
  const stores: Store[] = [];
  const store = (name: string): Store => {
    const s = makeStore(dir, name);
    stores.push(s);
    return s;
  };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hako-blob-swap-'));
    ({ server } = await createRegistryServer({ root: join(dir, 'registry') }));
    server.prependListener('request', (req: http.IncomingMessage) => { requests.push(`${req.method} ${req.url}`); });
    host = `127.0.0.1:${await listen(server)}`;
  });
  after(async () => {
    for (const s of stores) s.close();
    if (server) {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a save that starts before the swap and ends after it gives a loadable archive', async () => {
    const s = store('save');
    const big = layerTar(dir, 'big', 3 << 20);
    const small = layerTar(dir, 'small', 4096);
    const base = await s.images.commit({ parentId: null, layerTar: Readable.from([big]) });
    const { Id } = await s.images.commit({ parentId: base.Id, layerTar: Readable.from([small]), repo: 'app', tag: '1' });

    const out = await s.images.save(['app:1']);
    const parts: Buffer[] = [];
    let got = 0;
    let stopped = false;
    const paused = new Promise<void>((resolve) => {
      out.on('data', (c: Buffer) => {
        parts.push(c);
        got += c.length;
        // Inside the first layer (3 MiB), its blob open: stop reading once, swap it.
        if (got > 1 << 20 && !stopped) { stopped = true; out.pause(); resolve(); }
      });
    });
    const ended = new Promise<void>((resolve, reject) => { out.on('end', resolve); out.on('error', reject); });
    await paused;
    await swapToGzip(s, big);
    assert.equal(await s.content.has(sha(big)), false, 'the uncompressed blob was deleted by the swap');
    // The second layer's blob is swapped after the save read its record, before it opens it.
    s.content.onOpen.set(sha(small), async () => { await swapToGzip(s, small); });
    out.resume();
    await ended;
    assert.equal(s.content.onOpen.size, 0, 'the save opened the second layer when its swap had happened');
    assert.equal(await s.content.has(sha(small)), false);

    const other = store('save-load');
    const loaded = await other.images.load(Readable.from([Buffer.concat(parts)]), {});
    assert.deepEqual(loaded, ['Loaded image: app:1']);
    const img = await other.images.inspect('app:1');
    assert.equal(img.Id, Id);
    assert.deepEqual((img.RootFS as { Layers: string[] }).Layers, [sha(big), sha(small)]);
  });

  it('a push whose uncompressed blob is swapped before it opens it still pushes the layer', async () => {
    const s = store('push');
    const tar = layerTar(dir, 'pushed', 64 << 10);
    const { Id } = await s.images.commit({ parentId: null, layerTar: Readable.from([tar]), repo: `${host}/swap/app`, tag: '1' });
    let gz = '';
    s.content.onOpen.set(sha(tar), async () => { gz = await swapToGzip(s, tar); });
    const push = recorder();
    await s.registry.push({ ref: `${host}/swap/app`, tag: '1', progress: push.progress });
    assert.equal(s.content.onOpen.size, 0, 'the push opened the layer after the swap');
    assert.ok(push.statuses().includes('Pushed'), push.statuses().join('\n'));

    // The next push waits for the first one's gzip blob to be stored: it is dropped, the layer
    // keeps the gzip blob of the swap, which is sent as it is.
    const again = recorder();
    await s.registry.push({ ref: `${host}/swap/app`, tag: '1', progress: again.progress });
    assert.deepEqual(await blobs(s), [Id, gz].sort(), 'one blob for the layer (the swap\'s gzip blob), one config');

    const other = store('push-pull');
    await other.registry.pull({ ref: `${host}/swap/app:1`, progress: recorder().progress });
    const img = await other.images.inspect(`${host}/swap/app:1`);
    assert.equal(img.Id, Id);
  });

  it('push and then a commit of the same content leave one blob per layer; prune removes a leftover copy', async () => {
    const s = store('commit');
    const tar = layerTar(dir, 'same', 256 << 10);
    const first = await s.images.commit({ parentId: null, layerTar: Readable.from([tar]), repo: `${host}/same/app`, tag: '1' });
    await s.registry.push({ ref: `${host}/same/app`, tag: '1', progress: recorder().progress });
    // A second push waits until the first one's gzip blob replaced the uncompressed one.
    await s.registry.push({ ref: `${host}/same/app`, tag: '1', progress: recorder().progress });
    let second: { Id: string } | undefined;
    const layerBlobs = async () => (await blobs(s)).filter((d) => d !== first.Id && d !== second?.Id);
    const [gz] = await layerBlobs();
    assert.ok(gz !== undefined && gz !== sha(tar), `the layer is kept as its gzip blob: ${await blobs(s)}`);

    second = await s.images.commit({ parentId: null, layerTar: Readable.from([tar]), changes: ['CMD ["other"]'], repo: 'same2', tag: '1' });
    assert.notEqual(second.Id, first.Id);
    assert.deepEqual(await layerBlobs(), [gz], 'the commit reuses the gzip blob; its uncompressed copy is not left behind');
    const out = await s.images.save(['same2:1']);
    for await (const _ of out) { /* the layer is read from the gzip blob */ }

    // Left by an earlier hako: the uncompressed copy of the layer, named by nothing. A blob
    // nothing names that is no layer's (a pull's download in flight) stays.
    await s.content.put(tar);
    const foreign = await s.content.put(randomBytes(1024));
    const pruned = await s.images.prune({});
    assert.ok(pruned.SpaceReclaimed >= tar.length, JSON.stringify(pruned));
    assert.equal(await s.content.has(sha(tar)), false);
    assert.equal(await s.content.has(foreign.digest), true);
    assert.deepEqual(await layerBlobs(), [foreign.digest, gz].sort());
  });

  /** Pushes an image of `layers` (blobs as given, diff ids of `tars`) to `repo:1` by hand. */
  async function pushByHand(repo: string, tars: Buffer[], layers: Buffer[], cmd: string): Promise<Buffer> {
    const config = Buffer.from(JSON.stringify({
      architecture: 'amd64', os: 'linux', created: '2026-01-01T00:00:00Z',
      config: { Cmd: [cmd] },
      rootfs: { type: 'layers', diff_ids: tars.map(sha) },
      history: tars.map((_, i) => ({ created_by: `step ${i}` })),
    }));
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: config.length, digest: sha(config) },
      layers: layers.map((b) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: b.length, digest: sha(b) })),
    }));
    for (const blob of [...new Set(layers), config]) {
      const res = await fetch(`http://${host}/v2/${repo}/blobs/uploads/?digest=${sha(blob)}`, { method: 'POST', body: blob, headers: { 'Content-Type': 'application/octet-stream' } });
      assert.equal(res.status, 201, await res.text());
    }
    const put = await fetch(`http://${host}/v2/${repo}/manifests/1`, { method: 'PUT', body: manifest, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(put.status, 201, await put.text());
    return config;
  }

  it('a layer already here under another blob (the same tar compressed otherwise) is not downloaded again', async () => {
    const tar = layerTar(dir, 'again', 128 << 10);
    const fast = gzipSync(tar, { level: 1 });
    const best = gzipSync(tar, { level: 9 });
    assert.notEqual(sha(fast), sha(best));
    await pushByHand('again/one', [tar], [fast], 'one');
    await pushByHand('again/two', [tar], [best], 'two');
    const s = store('again');
    await s.registry.pull({ ref: `${host}/again/one:1`, progress: recorder().progress });
    const from = requests.length;
    const pull = recorder();
    await s.registry.pull({ ref: `${host}/again/two:1`, progress: pull.progress });
    assert.deepEqual(requests.slice(from).filter((r) => r.includes('/blobs/sha256:') && r.includes(sha(best))), [], requests.slice(from).join('\n'));
    assert.ok(pull.statuses().includes('Already exists'), pull.statuses().join('\n'));
    const img = await s.images.inspect(`${host}/again/two:1`);
    assert.deepEqual((img.RootFS as { Layers: string[] }).Layers, [sha(tar)]);
    // The image still saves and pushes: its layer has the blob the first pull stored.
    await s.registry.push({ ref: `${host}/again/two:1`, progress: recorder().progress });
  });

  it('a manifest listing one blob twice downloads it once', async () => {
    const tar = layerTar(dir, 'twice', 128 << 10);
    const gz = gzipSync(tar);
    const repo = 'twice/app';
    const config = await pushByHand(repo, [tar, tar], [gz, gz], 'sh');

    const s = store('twice');
    const from = requests.length;
    const pull = recorder();
    await s.registry.pull({ ref: `${host}/${repo}:1`, progress: pull.progress });
    const gets = requests.slice(from).filter((r) => r.startsWith(`GET /v2/${repo}/blobs/${sha(gz)}`));
    assert.equal(gets.length, 1, requests.slice(from).join('\n'));
    const img = await s.images.inspect(`${host}/${repo}:1`);
    assert.equal(img.Id, sha(config));
    assert.deepEqual((img.RootFS as { Layers: string[] }).Layers, [sha(tar), sha(tar)]);
    assert.deepEqual(await blobs(s), [sha(config), sha(gz)].sort());
    assert.equal(pull.statuses().filter((st) => st === 'Pull complete').length, 1, pull.statuses().join('\n'));
  });
});
