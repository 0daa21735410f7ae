import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { InvalidArgument } from '../../../src/errdefs/index.js';
import { busyboxTarBytes } from '../../support/busybox.js';
import { collect, makeEnv, type ImageEnv } from './env.js';

async function withEnvs(n: number, fn: (...envs: ImageEnv[]) => Promise<void>): Promise<void> {
  const envs = Array.from({ length: n }, () => makeEnv());
  try {
    await fn(...envs);
  } finally {
    for (const e of envs) e.close();
  }
}

const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const NOTHING = { images: 0, blobs: [], layerDirs: [], temp: [] };

/** A tar archive from [name, body] pairs (body null: directory; {link}: symlink). */
async function makeTar(entries: Array<[string, Buffer | string | null | { link: string }]>): Promise<Buffer> {
  const pack = tar.pack();
  const done = collect(pack as unknown as AsyncIterable<Buffer>);
  for (const [name, body] of entries) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (body === null) pack.entry({ name, type: 'directory' }, cb);
      else if (typeof body === 'object' && !Buffer.isBuffer(body)) pack.entry({ name, type: 'symlink', linkname: body.link }, cb);
      else pack.entry({ name }, body, cb);
    });
  }
  pack.finalize();
  return done;
}

/** A small layer tar with one file. */
function layerWith(name: string, content: string): Promise<Buffer> {
  return makeTar([[name, content]]);
}

/** An image config for the given layers. */
function configFor(layers: Buffer[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2024-05-01T10:00:00Z',
    config: { Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l)) },
    history: layers.map(() => ({ created: '2024-05-01T10:00:00Z', created_by: 'test' })),
    ...extra,
  }));
}

/** The classic `docker save` layout (before Docker 25): <hex>.json, <id>/layer.tar, repositories. */
async function classicArchive(images: Array<{ layers: Buffer[]; tags: string[] }>): Promise<Buffer> {
  const entries: Array<[string, Buffer | string | null | { link: string }]> = [];
  const manifest: unknown[] = [];
  const seen = new Map<string, string>();
  for (const img of images) {
    const config = configFor(img.layers);
    const layerPaths: string[] = [];
    for (const [i, layer] of img.layers.entries()) {
      const v1 = createHash('sha256').update(`${sha256(config)}-${i}`).digest('hex');
      const prior = seen.get(sha256(layer));
      entries.push([`${v1}/`, null], [`${v1}/VERSION`, '1.0'], [`${v1}/json`, '{}']);
      // Docker writes a repeated layer once and links the others to it.
      entries.push([`${v1}/layer.tar`, prior ? { link: `../${prior}/layer.tar` } : layer]);
      if (!prior) seen.set(sha256(layer), v1);
      layerPaths.push(`${v1}/layer.tar`);
    }
    entries.push([`${sha256(config).slice(7)}.json`, config]);
    manifest.push({ Config: `${sha256(config).slice(7)}.json`, RepoTags: img.tags, Layers: layerPaths });
  }
  entries.push(['manifest.json', JSON.stringify(manifest)], ['repositories', '{}']);
  return makeTar(entries);
}

test('save writes one archive that loads into a fresh data root with the same ids and tags', () => withEnvs(2, async (src, dst) => {
  const a = (await src.images.importRootfs(Readable.from([busyboxTarBytes()]), { repo: 'busybox', changes: ['CMD ["sh"]'] })).Id;
  const b = (await src.images.commit({ parentId: a, layerTar: Readable.from([await layerWith('etc/motd', 'hi\n')]), repo: 'me/app', tag: 'v1' })).Id;
  await src.contract.tag('busybox', 'busybox', 'stable');

  const archive = await collect(await src.images.save(['busybox', 'me/app:v1']));
  // The combined form: an OCI layout that is also a docker-archive.
  const names = new Set<string>();
  const extract = tar.extract();
  const listing = (async () => { for await (const e of extract) { names.add(e.header.name); e.resume(); } })();
  Readable.from([archive]).pipe(extract);
  await listing;
  for (const n of ['index.json', 'oci-layout', 'manifest.json', 'repositories', `blobs/sha256/${a.slice(7)}`, `blobs/sha256/${b.slice(7)}`]) assert.ok(names.has(n), n);

  const lines = await dst.images.load(Readable.from([archive]), {});
  assert.deepEqual(lines.sort(), ['Loaded image: busybox:latest', 'Loaded image: busybox:stable', 'Loaded image: me/app:v1'].sort());
  assert.equal(dst.images.resolve('busybox:stable').id, a);
  assert.equal(dst.images.resolve('me/app:v1').id, b);
  const inspected = await dst.contract.inspect('me/app:v1');
  assert.deepEqual(inspected.RootFS, (await src.contract.inspect(b)).RootFS);
  // The shared base layer is stored once.
  assert.equal((await dst.leftovers()).layerDirs.length, 2);

  // Saving again from the loaded copy gives the same bytes: the layers came back unchanged.
  const again = await collect(await dst.images.save(['busybox', 'me/app:v1']));
  assert.equal(sha256(again), sha256(archive));
}));

test('saving by id writes the image without names, and loading it says "Loaded image ID"', () => withEnvs(2, async (src, dst) => {
  const id = (await src.images.importRootfs(Readable.from([busyboxTarBytes()]), { repo: 'busybox' })).Id;
  const archive = await collect(await src.images.save([id.slice(7, 19)]));
  assert.deepEqual(await dst.images.load(Readable.from([archive]), {}), [`Loaded image ID: ${id}`]);
  assert.deepEqual((await dst.contract.inspect(id)).RepoTags, []);
}));

test('load reads the classic docker save layout, symlinked repeated layers included', () => withEnvs(1, async (env) => {
  const base = await layerWith('bin/hello', '#!/bin/sh\necho hello\n');
  const top = await layerWith('etc/motd', 'welcome\n');
  const archive = await classicArchive([
    { layers: [base], tags: ['hello:1'] },
    { layers: [base, top], tags: ['docker.io/library/hello:2', 'me/hello:latest'] },
  ]);
  const lines = await env.images.load(Readable.from([archive]), {});
  assert.deepEqual(lines, ['Loaded image: hello:1', 'Loaded image: hello:2', 'Loaded image: me/hello:latest']);
  const two = await env.contract.inspect('hello:2');
  assert.deepEqual((two.RootFS as { Layers: string[] }).Layers, [sha256(base), sha256(top)]);
  assert.equal(env.images.resolve('me/hello').id, two.Id);
}));

test('load of a gzip\'ed archive works like the plain one', () => withEnvs(1, async (env) => {
  const archive = await classicArchive([{ layers: [await layerWith('a', 'a')], tags: ['gz:1'] }]);
  assert.deepEqual(await env.images.load(Readable.from([gzipSync(archive)]), {}), ['Loaded image: gz:1']);
}));

test('load reads a plain OCI image layout with gzip layers and ref.name annotations', () => withEnvs(1, async (env) => {
  const layer = await layerWith('data/file', 'oci\n');
  const gz = gzipSync(layer);
  const config = configFor([layer]);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(gz), size: gz.length }],
  }));
  const index = {
    schemaVersion: 2,
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(manifest), size: manifest.length,
      annotations: { 'org.opencontainers.image.ref.name': 'localhost:5000/oci/app:3' },
    }],
  };
  const archive = await makeTar([
    ['oci-layout', '{"imageLayoutVersion":"1.0.0"}'], ['index.json', JSON.stringify(index)],
    [`blobs/sha256/${sha256(config).slice(7)}`, config], [`blobs/sha256/${sha256(manifest).slice(7)}`, manifest],
    [`blobs/sha256/${sha256(gz).slice(7)}`, gz],
  ]);
  assert.deepEqual(await env.images.load(Readable.from([archive]), {}), ['Loaded image: localhost:5000/oci/app:3']);
  assert.equal(env.images.resolve('localhost:5000/oci/app:3').id, sha256(config));
  // save writes the layer uncompressed, so its blob digest is the diff id again.
  const saved = await collect(await env.images.save(['localhost:5000/oci/app:3']));
  const dst = makeEnv();
  try {
    assert.deepEqual(await dst.images.load(Readable.from([saved]), {}), ['Loaded image: localhost:5000/oci/app:3']);
  } finally {
    dst.close();
  }
}));

test('a truncated archive is refused with a clear error and leaves nothing behind', () => withEnvs(1, async (env) => {
  const archive = await classicArchive([{ layers: [await layerWith('a', 'x'.repeat(100_000))], tags: ['cut:1'] }]);
  for (const cut of [700, Math.floor(archive.length / 2), archive.length - 2000]) {
    await assert.rejects(env.images.load(Readable.from([archive.subarray(0, cut)]), {}), (err: unknown) => {
      assert.ok(err instanceof InvalidArgument, String(err));
      assert.match(err.message, /^invalid image archive: /);
      return true;
    });
    assert.deepEqual(await env.leftovers(), NOTHING);
  }
}));

test('a corrupt layer, a wrong config digest or garbage is refused and leaves nothing behind', () => withEnvs(1, async (env) => {
  const good = await layerWith('a', 'good');
  const other = await layerWith('a', 'evil');
  // The manifest points at a layer whose content is not the config's diff id.
  const config = configFor([good]);
  const swapped = await makeTar([
    [`${sha256(config).slice(7)}.json`, config], ['l/layer.tar', other],
    ['manifest.json', JSON.stringify([{ Config: `${sha256(config).slice(7)}.json`, RepoTags: ['bad:1'], Layers: ['l/layer.tar'] }])],
  ]);
  await assert.rejects(env.images.load(Readable.from([swapped]), {}), /layer l\/layer.tar has content digest .* expects diff id .*corrupt/);
  assert.deepEqual(await env.leftovers(), NOTHING);

  const misnamed = await makeTar([
    [`${'0'.repeat(64)}.json`, config], ['l/layer.tar', good],
    ['manifest.json', JSON.stringify([{ Config: `${'0'.repeat(64)}.json`, RepoTags: ['bad:1'], Layers: ['l/layer.tar'] }])],
  ]);
  await assert.rejects(env.images.load(Readable.from([misnamed]), {}), /image config 0+\.json has digest sha256:[a-f0-9]+, expected sha256:0+/);
  assert.deepEqual(await env.leftovers(), NOTHING);

  await assert.rejects(env.images.load(Readable.from([Buffer.from('this is not a tarball at all, just some text'.repeat(20))]), {}), InvalidArgument);
  await assert.rejects(env.images.load(Readable.from([await makeTar([['hello.txt', 'hi']])]), {}), /neither manifest.json .* nor index.json/);
  assert.deepEqual(await env.leftovers(), NOTHING);
}));

test('a second image failing undoes the first one of the same archive', () => withEnvs(1, async (env) => {
  const l1 = await layerWith('one', '1');
  const l2 = await layerWith('two', '2');
  const c1 = configFor([l1]);
  const c2 = configFor([l2], { created: '2024-06-01T00:00:00Z' });
  const archive = await makeTar([
    [`${sha256(c1).slice(7)}.json`, c1], ['1/layer.tar', l1],
    [`${sha256(c2).slice(7)}.json`, c2], ['2/layer.tar', l1], // wrong layer for image 2
    ['manifest.json', JSON.stringify([
      { Config: `${sha256(c1).slice(7)}.json`, RepoTags: ['one:1'], Layers: ['1/layer.tar'] },
      { Config: `${sha256(c2).slice(7)}.json`, RepoTags: ['two:1'], Layers: ['2/layer.tar'] },
    ])],
  ]);
  await assert.rejects(env.images.load(Readable.from([archive]), {}), InvalidArgument);
  assert.deepEqual(await env.leftovers(), NOTHING);
}));

test('a hostile layer that climbs out with ../ is refused and leaves nothing behind', () => withEnvs(1, async (env) => {
  const outside = join(env.root, 'pwned');
  const hostile = await makeTar([['../../../../../../../../..' + outside, 'gotcha'], ['../escape', 'x']]);
  const archive = await classicArchive([{ layers: [await layerWith('ok', 'fine'), hostile], tags: ['evil:1'] }]);
  await assert.rejects(env.images.load(Readable.from([archive]), {}), (err: unknown) => {
    assert.ok(err instanceof InvalidArgument, String(err));
    assert.match(err.message, /climbs out/);
    return true;
  });
  assert.throws(() => readFileSync(outside));
  assert.deepEqual(await env.leftovers(), NOTHING);

  // The same entries as an archive path are refused too.
  const climbing = await makeTar([['../manifest.json', '[]']]);
  await assert.rejects(env.images.load(Readable.from([climbing]), {}), /climbs out of the archive/);
  assert.deepEqual(await env.leftovers(), NOTHING);
}));

test('a rootfs import of a hostile tarball is refused and leaves nothing behind', () => withEnvs(1, async (env) => {
  const hostile = await makeTar([['../../etc/evil', 'x']]);
  await assert.rejects(env.images.importRootfs(Readable.from([hostile]), { repo: 'evil' }), /climbs out/);
  assert.deepEqual(await env.leftovers(), NOTHING);
}));
