/**
 * Pull: reference -> manifest (through an index to the wanted platform) -> config -> layers.
 * Layers download concurrently (skipping blobs already stored) and unpack in chain order while
 * they download: each layer's bytes are followed from its download file as soon as the layer
 * below it is unpacked (LiveDownload), so gunzip, hashing and tar apply overlap the transfer.
 * The image is committed in one step by images/. A failed pull removes the blobs it downloaded.
 */
import { createHash } from 'node:crypto';
import { InvalidArgument, NotFound, NotImplemented } from '../errdefs/index.js';
import { familiarName, type Reference } from '../images/index.js';
import { downloadBlob, fetchSmallBlob, LiveDownload, MAX_DOCUMENT, type Repo } from './blobs.js';
import type { RegistryServiceDeps } from './deps.js';
import { LAYER_TYPES, MANIFEST_ACCEPT, MT, parseManifest, platformString, selectManifest, type Descriptor, type ImageManifest, type Platform } from './manifest.js';
import { LayerProgress, shortDigest, type ProgressSink } from './progress.js';
import { readBytes } from './transport.js';

export interface PullOptions {
  platform: Platform;
  /** True when --platform was given: a single-platform image of another platform is refused. */
  platformExplicit: boolean;
  progress: ProgressSink;
  signal?: AbortSignal | undefined;
}

/** Fetches a manifest by tag or digest; verifies it when asked by digest. */
export async function fetchManifest(repo: Repo, reference: string, signal?: AbortSignal): Promise<{ bytes: Buffer; digest: string; contentType: string }> {
  const res = await repo.registry.request(`/v2/${repo.path}/manifests/${reference}`, {
    scopes: repo.scopes, headers: { Accept: MANIFEST_ACCEPT }, signal,
  });
  if (res.status === 404) {
    res.body.resume();
    throw new NotFound(`manifest for ${repo.registry.host}/${repo.path}:${reference} not found: manifest unknown`);
  }
  if (res.status !== 200) throw await repo.registry.errorOf(res, `GET manifest ${reference}`);
  const bytes = await readBytes(res.body, MAX_DOCUMENT, `manifest ${reference}`);
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (reference.startsWith('sha256:') && digest !== reference) {
    throw new InvalidArgument(`manifest ${repo.registry.host}/${repo.path}@${reference}: digest mismatch, the registry sent content with digest ${digest}`);
  }
  return { bytes, digest, contentType: String(res.headers['content-type'] ?? '') };
}

/** Pulls one tag or digest, reporting progress as dockerd does. */
export async function pullOne(deps: RegistryServiceDeps, repo: Repo, ref: Reference, opts: PullOptions): Promise<void> {
  const { progress, signal } = opts;
  const name = familiarName(ref);
  const reference = ref.digest ?? ref.tag ?? 'latest';
  const top = await fetchManifest(repo, reference, signal);
  // After the manifest, as dockerd: an unknown tag or a refused login is the HTTP answer itself.
  progress({ status: `Pulling from ${ref.path}`, id: ref.digest ?? ref.tag ?? 'latest' });
  let doc = parseManifest(top.bytes, top.contentType, `${repo.registry.host}/${repo.path}:${reference}`);
  for (let depth = 0; doc.kind === 'index'; depth++) {
    if (depth > 3) throw new InvalidArgument(`${name}: image indexes nested too deep`);
    const pick = selectManifest(doc, opts.platform, `${name}:${reference}`);
    const m = await fetchManifest(repo, pick.digest, signal);
    doc = parseManifest(m.bytes, m.contentType, `${repo.registry.host}/${repo.path}@${pick.digest}`);
  }
  const manifest: ImageManifest = doc;
  for (const l of manifest.layers) {
    if (l.mediaType === MT.ociLayerZstd || l.mediaType.endsWith('+zstd')) {
      throw new NotImplemented(`${name}: layer ${l.digest} is zstd-compressed, which Node 20 cannot decode; push the image with gzip layers`);
    }
    if (!LAYER_TYPES.has(l.mediaType) && l.mediaType !== '') {
      throw new NotImplemented(`${name}: layer ${l.digest} has the media type "${l.mediaType}", which hako does not pull (foreign or non-distributable layers need URLs hako does not follow)`);
    }
  }
  const configBytes = await fetchSmallBlob(repo, manifest.config, 'image config', signal);
  const config = JSON.parse(configBytes.toString('utf8')) as { os?: string; architecture?: string; variant?: string; rootfs?: { diff_ids?: unknown } };
  if (opts.platformExplicit && (config.os !== opts.platform.os || config.architecture !== opts.platform.architecture)) {
    throw new NotFound(`image with reference ${name}:${reference} was found but does not match the specified platform: wanted ${platformString(opts.platform)}, actual: ${config.os ?? '?'}/${config.architecture ?? '?'}`);
  }
  const configDigest = manifest.config.digest;
  let before: string | null = null;
  if (ref.tag !== null) {
    try { before = deps.images.resolve(`${name}:${ref.tag}`).id; } catch (err) { if (!(err instanceof NotFound)) throw err; }
  }

  const fresh: string[] = [];
  const downloads: Array<Promise<void>> = [];
  const limit = new Limiter(deps.maxConcurrentDownloads ?? 3);
  // Which blobs are here first: the lines then appear, and downloads queue, in manifest order.
  // A layer is here when its blob is, or when its chain is (with a blob of its own: the same tar
  // compressed by another tool), as docker looks layers up by chain id ("Already exists").
  const diffIds = Array.isArray(config.rootfs?.diff_ids) && config.rootfs.diff_ids.length === manifest.layers.length
    ? (config.rootfs.diff_ids as unknown[]).filter((d): d is string => typeof d === 'string') : [];
  const chained = diffIds.length === manifest.layers.length ? await deps.images.presentLayers(diffIds) : [];
  const stored = await Promise.all(manifest.layers.map(async (desc, i) => chained[i] === true || deps.content.has(desc.digest)));
  // A blob listed twice (two identical layers) downloads once: the later layer shares the first
  // one's download and progress line (no lines of its own), and unpacks from the content store.
  const first = new Map<string, { ready: Promise<void>; bar: LayerProgress; downloaded: () => boolean }>();
  const layers = manifest.layers.map((desc: Descriptor, i) => {
    const shared = first.get(desc.digest);
    if (shared) {
      return { digest: desc.digest, mediaType: desc.mediaType || MT.ociLayerGzip, ready: shared.ready, bar: shared.bar, present: true, live: null, downloaded: shared.downloaded };
    }
    const bar = new LayerProgress(progress, shortDigest(desc.digest));
    if (stored[i]) {
      bar.status('Already exists');
      const ready = Promise.resolve();
      first.set(desc.digest, { ready, bar, downloaded: () => true });
      return { digest: desc.digest, mediaType: desc.mediaType || MT.ociLayerGzip, ready, bar, present: true, live: null, downloaded: () => true };
    }
    bar.status('Pulling fs layer');
    fresh.push(desc.digest);
    const live = new LiveDownload();
    let downloaded = false;
    const ready = limit.run(async () => {
      bar.bytes('Downloading', 0, desc.size, true);
      await downloadBlob(repo, desc, {
        content: deps.content, tmpDir: deps.tmpDir, retries: deps.downloadRetries ?? 5, signal, live,
        onBytes: (n) => bar.bytes('Downloading', n, desc.size),
        onRetry: (attempt, err) => {
          deps.logger?.debug(`pull ${name}: resuming layer ${desc.digest} (attempt ${attempt + 1}): ${(err as Error).message}`);
          bar.status(`Retrying in ${attempt} second${attempt === 1 ? '' : 's'}`);
        },
      });
      bar.status('Verifying Checksum');
      bar.status('Download complete');
      downloaded = true;
    }, () => bar.status('Waiting'));
    // Awaited in layer order later; a failure meanwhile must not count as unhandled.
    ready.catch(() => {});
    downloads.push(ready);
    first.set(desc.digest, { ready, bar, downloaded: () => downloaded });
    return { digest: desc.digest, mediaType: desc.mediaType || MT.ociLayerGzip, ready, bar, present: false, live, downloaded: () => downloaded };
  });

  let id: string;
  try {
    ({ Id: id } = await deps.images.addPulled({
      configBytes,
      layers: layers.map((l, i) => {
        const size = (manifest.layers[i] as Descriptor).size;
        return {
          digest: l.digest,
          mediaType: l.mediaType,
          ready: l.ready,
          ...(l.live ? { live: l.live } : {}),
          // While the layer still downloads, its line shows the download (as docker's does).
          ...(l.present ? {} : { onExtract: (n: number) => { if (l.downloaded()) l.bar.bytes('Extracting', n, size); }, onDone: () => l.bar.status('Pull complete') }),
        };
      }),
      tag: ref.tag !== null ? `${name}:${ref.tag}` : null,
      repoDigest: `${name}@${top.digest}`,
      ...(signal ? { signal } : {}),
    }));
  } catch (err) {
    // Every download must have stopped before its blob can be removed.
    await Promise.allSettled(downloads);
    await deps.images.discardBlobs(fresh).catch(() => {});
    throw err;
  }
  if (id !== configDigest) deps.logger?.warn(`pull ${name}: image id ${id} differs from the config digest ${configDigest}`);
  progress({ status: `Digest: ${top.digest}` });
  const shown = ref.tag !== null ? `${name}:${ref.tag}` : `${name}@${top.digest}`;
  progress({ status: before === id ? `Status: Image is up to date for ${shown}` : `Status: Downloaded newer image for ${shown}` });
}

/** Runs at most `n` tasks at once; `onQueued` fires for a task that has to wait. */
export class Limiter {
  #free: number;
  readonly #queue: Array<() => void> = [];
  constructor(n: number) {
    this.#free = Math.max(1, n);
  }
  async run<T>(task: () => Promise<T>, onQueued?: () => void): Promise<T> {
    if (this.#free === 0) {
      onQueued?.();
      await new Promise<void>((r) => this.#queue.push(r));
    } else this.#free--;
    try {
      return await task();
    } finally {
      const next = this.#queue.shift();
      if (next) next();
      else this.#free++;
    }
  }
}
