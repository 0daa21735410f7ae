/**
 * What registry/ needs from images/: registering an image whose blobs a pull has put into the
 * content store, reading back what a push sends, naming an image by repo digest, and dropping the
 * blobs of a pull that failed. The blobs are verified by the puller (digest and size) before they
 * reach the content store; here each layer's diff id is verified as it unpacks, and the whole
 * image is committed or rolled back as one.
 */
import { pipeline, Readable, Transform } from 'node:stream';
import { Internal, InvalidArgument, NotFound } from '../errdefs/index.js';
import { maybeGunzip, nextChainId } from '../storage/index.js';
import { configProblem, layerCompression, MEDIA_TYPE, type ImageConfig } from './config.js';
import { tagTarget, type ImageCore, type NamedRef, type NewImage } from './core.js';
import type { LayerBlob, LayerRow } from './records.js';
import { familiarName, parseReference } from './reference.js';
import { Rollback, uncompressed } from './streams.js';

export interface PulledLayer {
  /** Digest of the blob as the registry serves it (compressed or not). */
  digest: string;
  mediaType: string;
  /** Resolves once the verified blob is in the content store; a rejection aborts the image. */
  ready: Promise<void>;
  /** Progress of unpacking: blob bytes read so far. */
  onExtract?: (blobBytes: number) => void;
  /** Called when the layer is unpacked (or found already unpacked). */
  onDone?: () => void;
  /**
   * The blob's bytes while it downloads, so the layer unpacks as they arrive. The stream ends
   * only after the whole blob verified; `open` gives null when it cannot be followed (then the
   * layer unpacks from the content store after `ready`), and a stream that broke because the
   * download resumed sets `interrupted`: the layer is unpacked again from the store.
   */
  live?: { open(): Readable | null; readonly interrupted: boolean };
}

export interface PulledImage {
  configBytes: Buffer;
  layers: PulledLayer[];
  /** "localhost:5000/app:1.0" (any form parseReference takes), or null (pulled by digest). */
  tag: string | null;
  /** "localhost:5000/app@sha256:...": the digest of the manifest (or index) pulled. */
  repoDigest: string | null;
  signal?: AbortSignal;
}

export interface PushLayer {
  diffId: string;
  /** The stored blob: what is pushed, unchanged. */
  digest: string;
  mediaType: string;
  size: number;
}

export interface PushSource {
  id: string;
  configBytes: Buffer;
  layers: PushLayer[];
  /** Every name the image has: repo tags and repo digests (familiar form). */
  names: string[];
}

export async function addPulledImage(core: ImageCore, img: PulledImage): Promise<{ Id: string }> {
  let config: ImageConfig;
  try {
    config = JSON.parse(img.configBytes.toString('utf8')) as ImageConfig;
  } catch (err) {
    throw new InvalidArgument(`image config is not valid JSON: ${(err as Error).message}`);
  }
  const problem = configProblem(config);
  if (problem) throw new InvalidArgument(`image config ${problem}`);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== img.layers.length) {
    throw new InvalidArgument(`image config lists ${diffIds.length} layers (rootfs.diff_ids) but the manifest has ${img.layers.length}`);
  }
  const tags: NamedRef[] = img.tag ? [tagTarget(img.tag)] : [];
  const digests: NamedRef[] = img.repoDigest ? [digestName(img.repoDigest)] : [];
  return core.exclusive(async () => {
    const rb = new Rollback();
    // Layers unpack side by side (UNPACK_WINDOW at a time: overlay layers are independent
    // directories), each committed only after the one below it (createLayer's parentReady).
    const tasks: Array<Promise<{ layer: LayerRow; blob: LayerBlob }>> = [];
    try {
      let parent: string | null = null;
      for (const [i, l] of img.layers.entries()) {
        const diffId = diffIds[i] as string;
        const below = tasks[i - 1];
        const window = tasks[i - UNPACK_WINDOW];
        if (window) await window;
        const opts = { ...l, diffId, rb, ...(below ? { parentReady: below } : {}), ...(img.signal ? { signal: img.signal } : {}) };
        const task = unpackPulled(core, parent, l, opts);
        // Awaited below in order; a failure meanwhile must not count as unhandled.
        task.catch(() => {});
        tasks.push(task);
        parent = nextChainId(parent, diffId);
      }
      const image: NewImage = { configBytes: img.configBytes, layers: [], blobs: [], parent: '', tags, digests };
      for (const [i, task] of tasks.entries()) {
        const { layer, blob } = await task;
        img.layers[i]?.onDone?.();
        image.layers.push(layer);
        image.blobs.push(blob);
      }
      const [res] = await core.addImages([image], rb);
      rb.clear();
      return { Id: (res as { id: string }).id };
    } catch (err) {
      // Nothing may still be unpacking (and commit) once the rollback ran.
      await Promise.allSettled(tasks);
      await rb.run();
      throw err;
    }
  });
}

/** Layers of one pull unpacked at once: gunzip runs on the libuv pool, hashing and writes here. */
const UNPACK_WINDOW = 2;

/**
 * Which layers of a chain are here already, each with all below it and a stored blob: what a pull
 * then takes as it is ("Already exists"), whatever blob digest the registry has for it (docker
 * looks its layers up by chain id too; the same tar compressed by another tool is another blob).
 */
export async function presentLayers(core: ImageCore, diffIds: readonly string[]): Promise<boolean[]> {
  const out: boolean[] = [];
  let chain: string | null = null;
  let below = true;
  for (const diffId of diffIds) {
    chain = nextChainId(chain, diffId);
    below = below && (await core.deps.layers.has(chain)) && core.records.layerBlob(diffId) !== null;
    out.push(below);
  }
  return out;
}

/**
 * One pulled layer: unpacked from its download as the bytes arrive, or from the content store
 * once the verified blob is there (the download had already finished, or was interrupted), or
 * taken as it is when its chain is here with a stored blob (presentLayers).
 */
async function unpackPulled(core: ImageCore, parent: string | null, l: PulledLayer, opts: StreamedOptions): Promise<{ layer: LayerRow; blob: LayerBlob }> {
  const chainId = nextChainId(parent, opts.diffId);
  const kept = core.records.layerBlob(opts.diffId);
  // (With the pulled blob itself stored, the path below runs: a gzip blob may replace a kept tar.)
  if (!l.live && kept !== null && (await core.deps.layers.has(chainId)) && !(await core.deps.content.has(l.digest))) {
    await l.ready;
    return { layer: { chainId, diffId: opts.diffId, size: core.records.chainSize(chainId) ?? kept.tarSize }, blob: kept };
  }
  const stream = l.live?.open() ?? null;
  if (stream !== null) {
    try {
      const made = await applyStreamed(core, parent, stream, opts);
      // The stream ended once the blob verified; its move into the content store (and the
      // download's last progress lines) come just after: the image commits only with its blobs.
      await l.ready;
      return made;
    } catch (err) {
      // A failed download's own error says best what went wrong.
      await l.ready;
      if (!l.live?.interrupted) throw err;
    }
  }
  // The verified blob is in the content store (a live stream ends only after it verified).
  await l.ready;
  return applyStreamed(core, parent, await core.deps.content.createReadStream(l.digest, { highWaterMark: 1 << 20 }), opts);
}

interface StreamedOptions {
  digest: string; mediaType: string; diffId: string; rb: Rollback; signal?: AbortSignal; onExtract?: (n: number) => void;
  parentReady?: Promise<unknown>;
}

/**
 * Unpacks a layer from the bytes of its blob as they download (the blob itself reaches the
 * content store through the downloader). The layer store checks the diff id before it commits,
 * and `stream` ends only after the blob's digest verified: nothing unverified is committed. The
 * undo step removes the layer if the image is not committed after all.
 */
async function applyStreamed(core: ImageCore, parent: string | null, stream: Readable, l: StreamedOptions): Promise<{ layer: LayerRow; blob: LayerBlob }> {
  const { layers } = core.deps;
  const chainId = nextChainId(parent, l.diffId);
  const compressed = layerCompression(l.mediaType) !== null;
  let tarSize: number | undefined;
  let size: number | null = core.records.chainSize(chainId);
  if (await layers.has(chainId)) {
    stream.destroy();
  } else {
    let blobBytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) { blobBytes += chunk.length; l.onExtract?.(blobBytes); cb(null, chunk); },
    });
    const tar = new Transform({ transform(chunk: Buffer, _enc, cb) { tarSize = (tarSize ?? 0) + chunk.length; cb(null, chunk); } });
    // One pipeline, made at once: the layer store reads `tar` only after its own set-up (and, side
    // by side, while the layer below still unpacks), and an interrupted download or bad gzip
    // meanwhile must still reach it (a destroyed `tar` fails createLayer's read). Whether to
    // gunzip is told by the magic bytes, not the media type.
    pipeline(stream, meter, maybeGunzip(), tar, () => {});
    const made = await layers.createLayer(parent, tar, {
      expectedDiffId: l.diffId, ...(l.signal ? { signal: l.signal } : {}), ...(l.parentReady ? { parentReady: l.parentReady } : {}),
    }).finally(() => stream.destroy()); // a failed unpack leaves the source open (its file handle) otherwise
    l.rb.push(async () => { if (core.records.chainSize(chainId) === null) await layers.remove(chainId); });
    size = made.size;
  }
  tarSize ??= core.records.layerBlob(l.diffId)?.tarSize ?? 0;
  return {
    layer: { chainId, diffId: l.diffId, size: size ?? tarSize },
    blob: { diffId: l.diffId, blobDigest: l.digest, mediaType: compressed ? l.mediaType : MEDIA_TYPE.ociLayer, tarSize },
  };
}

export async function pushSource(core: ImageCore, id: string): Promise<PushSource> {
  const rec = core.get(id);
  const configBytes = await core.deps.content.read(rec.id);
  const layers: PushLayer[] = [];
  for (const l of rec.layers) {
    const blob = core.records.layerBlob(l.diffId);
    if (!blob) throw new Internal(`image ${rec.id}: layer ${l.diffId} has no stored blob to push`);
    let size: number;
    try {
      size = (await core.deps.content.stat(blob.blobDigest)).size;
    } catch (err) {
      if (err instanceof NotFound) throw new Internal(`image ${rec.id}: the blob ${blob.blobDigest} of layer ${l.diffId} is missing from the content store`, { cause: err });
      throw err;
    }
    layers.push({ diffId: l.diffId, digest: blob.blobDigest, mediaType: blob.mediaType, size });
  }
  return { id: rec.id, configBytes, layers, names: [...rec.repoTags, ...rec.repoDigests] };
}

/**
 * The uncompressed tar of layer `diffId`, read from its stored blob (gunzipped when that is the
 * gzip blob). A push may swap the layer's blob for its gzip blob at any time (useCompressedBlob:
 * record first, then the old blob is deleted): a reader whose blob vanished between reading the
 * record and opening the file reads the record again and opens the new blob. Once open, the file
 * stays readable to the end even when it is deleted meanwhile (the fd holds it). Null when the
 * layer has no stored blob.
 */
export async function openLayerTar(core: ImageCore, diffId: string, opts: { highWaterMark?: number } = {}): Promise<Readable | null> {
  for (let tries = 0; ; tries++) {
    const blob = core.records.layerBlob(diffId);
    if (blob === null) return null;
    let src: Readable;
    try {
      src = await core.deps.content.createReadStream(blob.blobDigest, opts);
    } catch (err) {
      if (!(err instanceof NotFound)) throw err;
      // Swapped meanwhile: the record names the new blob. Else the blob is really gone.
      if (tries < 3 && core.records.layerBlob(diffId)?.blobDigest !== blob.blobDigest) continue;
      return null;
    }
    return layerCompression(blob.mediaType) !== null ? uncompressed(src, `layer ${blob.blobDigest}`) : src;
  }
}

/**
 * Records `blob` (a gzip blob a push made of the layer `diffId` and put into the content store) as
 * the layer's stored blob, so the next push sends it again unchanged instead of compressing
 * anew (docker compresses on every push). The uncompressed blob it replaces is deleted when no
 * image record still names it: save and export decompress the gzip blob. When another push
 * recorded a compressed blob first, that one stays and `blob` is dropped unless something uses it.
 */
export async function useCompressedBlob(core: ImageCore, diffId: string, blob: { digest: string; mediaType: string }): Promise<void> {
  await core.exclusive(async () => {
    const { content } = core.deps;
    const now = core.records.layerBlob(diffId);
    if (now === null || layerCompression(now.mediaType) !== null) {
      if (now?.blobDigest !== blob.digest && !core.records.blobInUse(blob.digest)) {
        await content.delete(blob.digest).catch((err: unknown) => { if (!(err instanceof NotFound)) throw err; });
      }
      return;
    }
    core.records.transaction(() => core.records.putLayerBlob({ diffId, blobDigest: blob.digest, mediaType: blob.mediaType, tarSize: now.tarSize }));
    if (!core.records.blobInUse(now.blobDigest)) {
      await content.delete(now.blobDigest).catch((err: unknown) => { if (!(err instanceof NotFound)) throw err; });
    }
  });
}

export function addRepoDigest(core: ImageCore, id: string, name: string): void {
  core.get(id);
  const ref = digestName(name);
  core.records.transaction(() => core.records.setRef(ref, id, core.deps.now().toISOString()));
}

/** Deletes those of `digests` that no image uses (and that exist). */
export async function discardBlobs(core: ImageCore, digests: readonly string[]): Promise<void> {
  await core.exclusive(async () => {
    for (const d of digests) {
      if (core.records.blobInUse(d)) continue;
      await core.deps.content.delete(d).catch((err: unknown) => { if (!(err instanceof NotFound)) throw err; });
    }
  });
}

function digestName(name: string): NamedRef {
  const ref = parseReference(name);
  if (ref.digest === null) throw new InvalidArgument(`"${name}" is not a reference by digest`);
  const repo = familiarName(ref);
  return { name: `${repo}@${ref.digest}`, repo, kind: 'digest' };
}
