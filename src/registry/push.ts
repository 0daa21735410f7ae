/**
 * Push: the layer blobs, then the config, then the manifest by tag. A gzip blob in the store is
 * sent as it is; an uncompressed one (load, import, commit, build) is gzip'ed on the way, as docker
 * does, and kept for the next push (pushCompressed). A blob the repository already has is skipped ("Layer already exists"); one
 * another repository of the same registry has is mounted from there (distribution's cross-repository
 * blob mount) — candidates are the other names of the image on that registry.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline, Readable, Transform } from 'node:stream';
import { NotFound, Unavailable } from '../errdefs/index.js';
import { familiarName, parseReference, type PushLayer, type PushSource, type Reference } from '../images/index.js';
import { uploadBlob, type Repo } from './blobs.js';
import { gzipLayer } from './compress.js';
import type { RegistryServiceDeps } from './deps.js';
import { MT } from './manifest.js';
import { LayerProgress, shortDigest, type ProgressSink } from './progress.js';
import { Limiter } from './pull.js';

export interface PushResult {
  digest: string;
  size: number;
}

/** Builds the manifest for an image: Docker schema 2 when every layer is gzip, else OCI. */
export function manifestFor(src: PushSource): { bytes: Buffer; mediaType: string } {
  const allGzip = src.layers.every((l) => isGzip(l.mediaType));
  const docker = allGzip;
  const manifest = {
    schemaVersion: 2,
    mediaType: docker ? MT.dockerManifest : MT.ociManifest,
    config: { mediaType: docker ? MT.dockerConfig : MT.ociConfig, size: src.configBytes.length, digest: src.id },
    layers: src.layers.map((l) => ({
      mediaType: docker ? MT.dockerLayerGzip : isGzip(l.mediaType) ? MT.ociLayerGzip : MT.ociLayer,
      size: l.size,
      digest: l.digest,
    })),
  };
  return { bytes: Buffer.from(JSON.stringify(manifest, null, 3)), mediaType: manifest.mediaType };
}

/**
 * Pushes an uncompressed layer gzip-compressed, as docker does (level 6, zlib's default): the
 * layer is compressed while it uploads (a chunked PATCH), the compressed bytes are hashed and
 * kept in a temp file on the way, and once the registry took them the blob goes into the content
 * store as the layer's blob (images' useCompressedBlob), so the next push of this layer sends it
 * as it is, checked with a HEAD first. Returns the layer as it is now stored.
 */
async function pushCompressed(deps: RegistryServiceDeps, repo: Repo, l: PushLayer, bar: LayerProgress, opts: {
  signal?: AbortSignal | undefined;
}): Promise<Pick<PushLayer, 'digest' | 'size' | 'mediaType'>> {
  const temp = join(deps.tmpDir, `push-${l.diffId.slice(7, 19)}-${randomBytes(6).toString('hex')}`);
  const hash = createHash('sha256');
  let size = 0;
  let done = false;
  try {
    const fh = await open(temp, 'wx', 0o600);
    let closed = false;
    const close = async () => { if (!closed) { closed = true; await fh.close(); } };
    try {
      const keep = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          size += chunk.length;
          writeAll(fh, chunk).then(() => cb(null, chunk), cb);
        },
        flush(cb) { close().then(() => cb(), cb); },
      });
      let digest = '';
      await uploadBlob(repo, {
        digest: () => (digest = `sha256:${hash.digest('hex')}`),
        open: async () => {
          // By diff id, not by the blob pushSource named: another push may have swapped that
          // uncompressed blob for its gzip blob (and deleted it) since.
          const source = await deps.images.openLayerTar(l.diffId, { highWaterMark: 1 << 20 });
          if (source === null) throw new NotFound(`layer ${l.diffId}: its blob is missing from the content store; pull or load the image again`);
          // Progress counts the layer's bytes read, against its size, as docker shows it.
          return pipeline(gzipLayer(source, (n) => bar.bytes('Pushing', n, l.size)), keep, () => {});
        },
      }, { signal: opts.signal });
      bar.status('Pushed');
      await close();
      const mediaType = MT.dockerLayerGzip;
      // Storing the blob (fsync, rename, record) is not the push's business: it goes on after the
      // push answered; the next push of this registry service waits for it (storeLater). Lost
      // (hakod stopped first), the temp file goes with the tmp dir and the next push compresses again.
      storeLater(deps, (async () => {
        try {
          await deps.content.adopt(temp, digest, size);
          await deps.images.useCompressedBlob(l.diffId, { digest, mediaType });
        } catch (err) {
          deps.logger?.warn(`push: keeping the compressed blob ${digest} of layer ${l.diffId} failed: ${(err as Error).message}`);
          await rm(temp, { force: true });
        }
      })());
      done = true;
      return { digest, size, mediaType };
    } finally {
      await close().catch(() => {});
    }
  } finally {
    if (!done) await rm(temp, { force: true });
  }
}

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length;) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
}

/** Compressed blobs of finished pushes still being stored, per registry service. */
const storing = new WeakMap<RegistryServiceDeps, Set<Promise<void>>>();

function storeLater(deps: RegistryServiceDeps, task: Promise<void>): void {
  let set = storing.get(deps);
  if (!set) storing.set(deps, (set = new Set()));
  const s = set;
  s.add(task);
  void task.finally(() => s.delete(task));
}

/** Waits until the compressed blobs of earlier pushes are stored (so a push reuses them). */
export async function storedPushes(deps: RegistryServiceDeps): Promise<void> {
  await Promise.allSettled([...(storing.get(deps) ?? [])]);
}

function isGzip(mediaType: string): boolean {
  return mediaType.endsWith('+gzip') || mediaType.endsWith('.gzip');
}

export async function pushOne(deps: RegistryServiceDeps, repo: Repo, ref: Reference, tag: string, opts: {
  progress: ProgressSink; signal?: AbortSignal | undefined; open: (digest: string) => Promise<Readable>;
}): Promise<PushResult> {
  const name = familiarName(ref);
  const image = deps.images.resolve(`${name}:${tag}`);
  await storedPushes(deps);
  const src = await deps.images.pushSource(image.id);
  // Other repositories of the same registry holding this image: blobs can be mounted from them.
  const mountFrom = [...new Set(src.names.map((n) => {
    try {
      const r = parseReference(n);
      return r.domain === ref.domain && r.path !== ref.path ? r.path : null;
    } catch { return null; }
  }).filter((p): p is string => p !== null))];

  const limit = new Limiter(deps.maxConcurrentUploads ?? 5);
  const layers = [...src.layers].reverse();
  const bars = layers.map((l) => new LayerProgress(opts.progress, shortDigest(l.diffId)));
  for (const b of bars) b.status('Preparing');
  const seen = new Map<string, Promise<void>>();
  const pushLayer = async (l: PushLayer, bar: LayerProgress): Promise<void> => {
    if (!isGzip(l.mediaType)) {
      Object.assign(l, await pushCompressed(deps, repo, l, bar, opts));
      return;
    }
    const head = await repo.registry.request(`/v2/${repo.path}/blobs/${l.digest}`, { method: 'HEAD', scopes: repo.scopes, signal: opts.signal });
    head.body.resume();
    if (head.status === 200) {
      bar.status('Layer already exists');
      return;
    }
    if (head.status !== 404) throw await repo.registry.errorOf(head, `HEAD blob ${l.digest}`);
    const { mounted } = await uploadBlob(repo, { digest: l.digest, size: l.size, open: () => opts.open(l.digest) }, {
      mountFrom, signal: opts.signal, onBytes: (n) => bar.bytes('Pushing', n, l.size),
    });
    bar.status(mounted !== null ? `Mounted from ${mounted}` : 'Pushed');
  };
  const tasks = layers.map((l, i) => {
    const bar = bars[i] as LayerProgress;
    // The same blob twice in one image is sent once.
    const earlier = seen.get(l.digest);
    if (earlier) {
      const first = layers.find((o) => o.digest === l.digest) as PushLayer;
      return earlier.then(() => { Object.assign(l, { digest: first.digest, size: first.size, mediaType: first.mediaType }); bar.status('Layer already exists'); });
    }
    const t = limit.run(() => pushLayer(l, bar), () => bar.status('Waiting'));
    t.catch(() => {});
    seen.set(l.digest, t);
    return t;
  });
  await Promise.all(tasks);

  // The config, then the manifest that names it all.
  const cfgHead = await repo.registry.request(`/v2/${repo.path}/blobs/${src.id}`, { method: 'HEAD', scopes: repo.scopes, signal: opts.signal });
  cfgHead.body.resume();
  if (cfgHead.status !== 200) {
    await uploadBlob(repo, { digest: src.id, size: src.configBytes.length, open: async () => Readable.from([src.configBytes]) }, { signal: opts.signal });
  }
  const { bytes, mediaType } = manifestFor(src);
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const put = await repo.registry.request(`/v2/${repo.path}/manifests/${tag}`, {
    method: 'PUT', scopes: repo.scopes, signal: opts.signal, body: bytes, headers: { 'Content-Type': mediaType },
  });
  if (put.status !== 201 && put.status !== 200) throw await repo.registry.errorOf(put, `PUT manifest ${tag}`);
  put.body.resume();
  const answered = put.headers['docker-content-digest'];
  if (typeof answered === 'string' && answered !== '' && answered !== digest) {
    throw new Unavailable(`${repo.registry.host}/${repo.path}:${tag}: the registry stored the manifest as ${answered}, but its content digest is ${digest}`);
  }
  deps.images.addRepoDigest(image.id, `${name}@${digest}`);
  return { digest, size: bytes.length };
}
