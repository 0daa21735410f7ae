/**
 * Push: the stored layer blobs (unchanged: pushing re-compresses nothing), then the config, then
 * the manifest by tag. A blob the repository already has is skipped ("Layer already exists"); one
 * another repository of the same registry has is mounted from there (distribution's cross-repository
 * blob mount) — candidates are the other names of the image on that registry.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Unavailable } from '../errdefs/index.js';
import { familiarName, parseReference, type PushLayer, type PushSource, type Reference } from '../images/index.js';
import { uploadBlob, type Repo } from './blobs.js';
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

function isGzip(mediaType: string): boolean {
  return mediaType.endsWith('+gzip') || mediaType.endsWith('.gzip');
}

export async function pushOne(deps: RegistryServiceDeps, repo: Repo, ref: Reference, tag: string, opts: {
  progress: ProgressSink; signal?: AbortSignal | undefined; open: (digest: string) => Promise<Readable>;
}): Promise<PushResult> {
  const name = familiarName(ref);
  const image = deps.images.resolve(`${name}:${tag}`);
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
    if (earlier) return earlier.then(() => bar.status('Layer already exists'));
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
