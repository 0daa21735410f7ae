/**
 * `docker save`: one tar stream holding every requested image in Docker 25+'s combined form, an
 * OCI image layout (oci-layout, index.json, blobs/sha256/..) that is also a docker-archive
 * (manifest.json with blob paths, repositories), so both old and new `docker load` and OCI tools
 * read it. Layers are written uncompressed, so each layer blob's digest is its diff id, streamed
 * from the stored blob with back-pressure; nothing is buffered whole.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { Internal } from '../errdefs/index.js';
import { sha256Of } from '../storage/index.js';
import { blobPath, MEDIA_TYPE, type Descriptor } from './config.js';
import type { ImageCore, NamedRef } from './core.js';
import type { ImageRecord } from './records.js';
import { fullString, parseReference } from './reference.js';
import { openLayerTar } from './registry-io.js';
import { digestStream } from './streams.js';

export interface SaveItem {
  image: ImageRecord;
  tags: NamedRef[];
}

/** Entry times are fixed so saving the same images twice gives the same bytes. */
const MTIME = new Date(0);

export async function saveArchive(core: ImageCore, items: SaveItem[], signal?: AbortSignal): Promise<Readable> {
  // Everything small is prepared before the first byte, so a missing config fails the call
  // (a clean HTTP error) rather than the stream halfway.
  const docs = await Promise.all(items.map((item) => manifestDocs(core, item)));
  const pack = tar.pack();
  const out = new PassThrough();
  pipeline(pack, out).catch(() => { /* errors reach `out` through pipeline */ });
  void (async () => {
    try {
      await entry(pack, 'blobs/', null);
      await entry(pack, 'blobs/sha256/', null);
      const written = new Set<string>();
      for (const [i, item] of items.entries()) {
        const d = docs[i] as Awaited<ReturnType<typeof manifestDocs>>;
        for (const [idx, layer] of item.image.layers.entries()) {
          if (written.has(layer.diffId)) continue;
          written.add(layer.diffId);
          await writeLayer(core, pack, item.image, idx, signal);
        }
        for (const blob of [d.configBytes, d.manifestBytes]) {
          const digest = sha256Of(blob);
          if (written.has(digest)) continue;
          written.add(digest);
          await entry(pack, blobPath(digest), blob);
        }
      }
      await entry(pack, 'index.json', json({
        schemaVersion: 2,
        mediaType: MEDIA_TYPE.ociIndex,
        manifests: docs.flatMap((d) => d.indexEntries),
      }));
      await entry(pack, 'manifest.json', json(docs.map((d) => d.dockerManifest)));
      await entry(pack, 'oci-layout', json({ imageLayoutVersion: '1.0.0' }));
      await entry(pack, 'repositories', json(repositories(items)));
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
    }
  })();
  return out;
}

async function manifestDocs(core: ImageCore, item: SaveItem) {
  const { image } = item;
  const configBytes = await core.deps.content.read(image.id);
  const layers: Descriptor[] = image.layers.map((l) => ({
    mediaType: MEDIA_TYPE.ociLayer,
    digest: l.diffId,
    size: core.records.layerBlob(l.diffId)?.tarSize ?? 0,
  }));
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    config: { mediaType: MEDIA_TYPE.ociConfig, digest: image.id, size: configBytes.length },
    layers,
  };
  const manifestBytes = json(manifest);
  const desc = { mediaType: MEDIA_TYPE.ociManifest, digest: sha256Of(manifestBytes), size: manifestBytes.length };
  const indexEntries = item.tags.length === 0 ? [desc] : item.tags.map((t) => {
    const ref = parseReference(t.name);
    return {
      ...desc,
      annotations: {
        'io.containerd.image.name': fullString(ref),
        'org.opencontainers.image.ref.name': ref.tag ?? 'latest',
      },
    };
  });
  const dockerManifest = {
    Config: blobPath(image.id),
    RepoTags: item.tags.length === 0 ? null : item.tags.map((t) => t.name),
    Layers: image.layers.map((l) => blobPath(l.diffId)),
  };
  return { configBytes, manifestBytes, indexEntries, dockerManifest };
}

/** The layer's uncompressed tar from its stored blob, or regenerated from the snapshot. */
async function writeLayer(core: ImageCore, pack: tar.Pack, image: ImageRecord, idx: number, signal?: AbortSignal): Promise<void> {
  const layer = image.layers[idx] as (typeof image.layers)[number];
  // Opened by the record as it is now: a push swapping the layer's blob for its gzip blob while
  // this save runs cannot make it vanish under us (openLayerTar).
  const blob = core.records.layerBlob(layer.diffId);
  const src = blob ? await openLayerTar(core, layer.diffId) : null;
  if (blob && src) {
    await pipeline(src, pack.entry({ name: blobPath(layer.diffId), size: blob.tarSize, mode: 0o644, mtime: MTIME }), signal ? { signal } : {});
    return;
  }
  // The blob is gone: tar the snapshot to a temp file (its size must be known up front), and
  // write it only if it reproduces the diff id; an archive that cannot load is worse than none.
  const dir = await mkdtemp(join(core.deps.tmpDir, 'hako-save-'));
  try {
    const file = join(dir, 'layer.tar');
    await pipeline(await core.deps.layers.tarLayer(layer.chainId), createWriteStream(file), signal ? { signal } : {});
    const { digest, size } = await digestStream(createReadStream(file));
    if (digest !== layer.diffId) {
      throw new Internal(`image ${image.id}: the blob of layer ${layer.diffId} is missing from the content store and re-creating it from the snapshot gave ${digest}; re-import or re-load the image`);
    }
    await pipeline(createReadStream(file), pack.entry({ name: blobPath(layer.diffId), size, mode: 0o644, mtime: MTIME }), signal ? { signal } : {});
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The classic `repositories` file: {"busybox": {"latest": "<top layer id>"}}. */
function repositories(items: SaveItem[]): Record<string, Record<string, string>> {
  const repos: Record<string, Record<string, string>> = {};
  for (const { image, tags } of items) {
    const top = image.layers.at(-1);
    if (!top) continue;
    for (const t of tags) {
      const tag = t.name.slice(t.repo.length + 1);
      (repos[t.repo] ??= {})[tag] = top.diffId.slice(7);
    }
  }
  return repos;
}

function entry(pack: tar.Pack, name: string, body: Buffer | null): Promise<void> {
  return new Promise((resolve, reject) => {
    const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
    if (body === null) pack.entry({ name, type: 'directory', mode: 0o755, mtime: MTIME }, cb);
    else pack.entry({ name, size: body.length, mode: 0o644, mtime: MTIME }, body, cb);
  });
}

function json(v: unknown): Buffer {
  return Buffer.from(JSON.stringify(v));
}

