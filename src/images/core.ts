/**
 * The state every image operation shares: the records, the config cache, name resolution, and
 * the two write paths (add a layer, add an image) with their rollback, and image deletion with
 * the release of layers and blobs nobody else uses.
 */
import { tmpdir } from 'node:os';
import { Transform, type Readable } from 'node:stream';
import { Conflict, InvalidArgument, NotFound } from '../errdefs/index.js';
import { nextChainId } from '../storage/index.js';
import { configProblem, layerCompression, MEDIA_TYPE, type ImageConfig } from './config.js';
import type { ImageServiceDeps } from './deps.js';
import { ImageRecords, type ImageRecord, type LayerBlob, type LayerRow } from './records.js';
import {
  DEFAULT_TAG, familiarName, isFullImageId, isImageIdPrefix, parseReference, type Reference,
} from './reference.js';
import { Rollback, uncompressed } from './streams.js';

export interface NamedRef {
  /** "nginx:latest" or "nginx@sha256:.." */
  name: string;
  /** "nginx" */
  repo: string;
  kind: 'tag' | 'digest';
}

export interface NewImage {
  configBytes: Buffer;
  layers: LayerRow[];
  blobs: LayerBlob[];
  parent: string;
  tags: NamedRef[];
  digests?: NamedRef[];
}

export class ImageCore {
  readonly deps: Required<Pick<ImageServiceDeps, 'tmpDir' | 'now'>> & ImageServiceDeps;
  readonly records: ImageRecords;
  readonly #configs = new Map<string, ImageConfig>();
  #writes: Promise<unknown> = Promise.resolve();

  constructor(deps: ImageServiceDeps) {
    this.deps = { ...deps, tmpDir: deps.tmpDir ?? tmpdir(), now: deps.now ?? (() => new Date()) };
    this.records = new ImageRecords(deps.db);
  }

  /**
   * Runs `fn` after every earlier write has finished. Writes that add layers and writes that
   * release them must not interleave: an import could otherwise reuse a layer that an rmi is
   * removing because no record named it yet.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#writes.then(fn);
    this.#writes = result.catch(() => {});
    return result;
  }

  /**
   * Finds an image by name[:tag], name@digest, full id or unique id prefix, as Docker's
   * GetImage does: names first, then ids.
   */
  resolve(input: string): ImageRecord {
    const hex = input.startsWith('sha256:') ? input.slice(7) : input;
    if (isFullImageId(input)) {
      const rec = this.records.get(`sha256:${hex}`);
      if (rec) return rec;
      throw noSuchImage(input);
    }
    const name = this.resolveName(input);
    if (name !== null) {
      const hit = this.records.ref(name);
      if (hit) return this.records.get(hit.imageId) as ImageRecord;
    }
    if (isImageIdPrefix(input)) {
      const ids = this.records.idsWithPrefix(hex);
      if (ids.length === 1) return this.records.get(ids[0] as string) as ImageRecord;
      if (ids.length > 1) throw new NotFound(`No such image: ${input} (the id prefix matches ${ids.length} images; give more of it)`);
    }
    throw noSuchImage(input);
  }

  /**
   * The stored ref name `input` stands for ("nginx" -> "nginx:latest", "nginx@sha256:.."), or
   * null when it is no valid name but could be an id prefix. Other parse errors are thrown.
   */
  resolveName(input: string): string | null {
    let ref: Reference;
    try {
      ref = parseReference(input);
    } catch (err) {
      if (isImageIdPrefix(input)) return null;
      throw err;
    }
    return ref.digest !== null ? `${familiarName(ref)}@${ref.digest}` : `${familiarName(ref)}:${ref.tag ?? DEFAULT_TAG}`;
  }

  get(id: string): ImageRecord {
    const rec = this.records.get(id);
    if (!rec) throw noSuchImage(id);
    return rec;
  }

  /** The parsed config of a stored image (cached: configs are small and immutable). */
  async config(id: string): Promise<ImageConfig> {
    const hit = this.#configs.get(id);
    if (hit) return hit;
    const config = JSON.parse((await this.deps.content.read(id)).toString('utf8')) as ImageConfig;
    this.#configs.set(id, config);
    return config;
  }

  /**
   * Stores one layer on top of `parentChainId`: its blob (original bytes) into the content store
   * and its tree into the layer store. `blob` is the stream of the blob as it will be stored;
   * when it is compressed, `diffId`/`tarSize` must have been verified by the caller. Undo steps
   * for what did not exist before go onto `rb`.
   */
  async addLayer(parentChainId: string | null, blob: Readable, opts: {
    mediaType: string; blobDigest?: string; diffId?: string; tarSize?: number; rb: Rollback; signal?: AbortSignal;
    /** Called with the count of blob bytes read while the layer unpacks (pull's "Extracting"). */
    onProgress?: (blobBytes: number) => void;
  }): Promise<{ layer: LayerRow; blob: LayerBlob }> {
    const { content, layers } = this.deps;
    const compressed = layerCompression(opts.mediaType) !== null;
    let blobDigest = opts.blobDigest;
    let blobSize: number;
    if (blobDigest !== undefined && await content.has(blobDigest)) {
      blob.destroy();
      blobSize = (await content.stat(blobDigest)).size;
    } else {
      const info = await content.ingest(blob, {
        ...(blobDigest !== undefined ? { expectedDigest: blobDigest } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      blobDigest = info.digest;
      blobSize = info.size;
      const stored = blobDigest;
      opts.rb.push(async () => { if (!this.records.blobInUse(stored)) await content.delete(stored); });
    }
    const diffId = compressed ? opts.diffId : blobDigest;
    if (diffId === undefined) throw new InvalidArgument(`layer ${blobDigest}: compressed layer without a verified diff id`);
    if (opts.diffId !== undefined && diffId !== opts.diffId) {
      throw new InvalidArgument(`layer ${blobDigest}: content digest ${diffId} does not match the diff id ${opts.diffId} in the image config`);
    }
    const chainId = nextChainId(parentChainId, diffId);
    let size = this.records.chainSize(chainId);
    // A compressed blob's tar size is counted while it unpacks when the caller did not know it.
    let counted: number | undefined;
    if (!(await layers.has(chainId))) {
      let blobBytes = 0;
      const file = await content.createReadStream(blobDigest);
      const source = new Transform({
        transform(chunk: Buffer, _enc, cb) { blobBytes += chunk.length; opts.onProgress?.(blobBytes); cb(null, chunk); },
      });
      file.on('error', (err) => source.destroy(err));
      const unpacked = await uncompressed(file.pipe(source), `layer ${blobDigest}`);
      const tar = new Transform({ transform(chunk: Buffer, _enc, cb) { counted = (counted ?? 0) + chunk.length; cb(null, chunk); } });
      unpacked.on('error', (err) => tar.destroy(err));
      unpacked.pipe(tar);
      const made = await layers.createLayer(parentChainId, tar, { expectedDiffId: diffId, ...(opts.signal ? { signal: opts.signal } : {}) });
      opts.rb.push(async () => { if (this.records.chainSize(chainId) === null) await layers.remove(chainId); });
      size = made.size;
    }
    const tarSize = compressed ? opts.tarSize ?? counted ?? this.records.layerBlob(diffId)?.tarSize ?? 0 : blobSize;
    return {
      layer: { chainId, diffId, size: size ?? tarSize },
      blob: { diffId, blobDigest, mediaType: compressed ? opts.mediaType : MEDIA_TYPE.ociLayer, tarSize },
    };
  }

  /**
   * Stores a finished overlay upper dir as the layer on top of `parentChainId` without unpacking
   * it again: the layer store takes the tree, its tar goes into the content store in the same
   * pass. Null (with `dir` untouched) when the layer store cannot adopt it; use `addLayer` then.
   */
  async adoptLayer(parentChainId: string | null, dir: string, lowerDirs: readonly string[], opts: { rb: Rollback; signal?: AbortSignal | undefined }): Promise<{ layer: LayerRow; blob: LayerBlob } | null> {
    const { content, layers } = this.deps;
    if (!layers.adoptLayer) return null;
    let tarSize = 0;
    let existed = false;
    const made = await layers.adoptLayer(parentChainId, dir, {
      lowerDirs,
      ...(opts.signal ? { signal: opts.signal } : {}),
      storeTar: async (tar) => {
        const info = await content.ingest(tar, opts.signal ? { signal: opts.signal } : {});
        opts.rb.push(async () => { if (!this.records.blobInUse(info.digest)) await content.delete(info.digest); });
        tarSize = info.size;
        existed = await layers.has(nextChainId(parentChainId, info.digest));
        return info.digest;
      },
    });
    if (made === null) return null;
    if (!existed) opts.rb.push(async () => { if (this.records.chainSize(made.chainId) === null) await layers.remove(made.chainId); });
    return {
      layer: { chainId: made.chainId, diffId: made.diffId, size: this.records.chainSize(made.chainId) ?? made.size },
      blob: { diffId: made.diffId, blobDigest: made.diffId, mediaType: MEDIA_TYPE.ociLayer, tarSize },
    };
  }

  /**
   * Stores the config blobs and the images' records in one transaction (all or none); an image
   * that already exists only gains the names. Returns each image's id and the tags moved off
   * other images.
   */
  async addImages(imgs: readonly NewImage[], rb: Rollback): Promise<Array<{ id: string; moved: Array<{ name: string; from: string }> }>> {
    const ids: string[] = [];
    for (const img of imgs) {
      const problem = configProblem(JSON.parse(img.configBytes.toString('utf8')));
      if (problem) throw new InvalidArgument(`image config ${problem}`);
      const { digest: id } = await this.deps.content.put(img.configBytes);
      rb.push(async () => { if (!this.records.get(id)) await this.deps.content.delete(id); });
      ids.push(id);
    }
    const now = this.deps.now().toISOString();
    // One stored blob per layer (diff id). A layer that already has one keeps it, unless this
    // write brings the gzip blob of a layer stored uncompressed (push sends that one as it is):
    // the blob that lost is then named by nothing and deleted below, not left behind.
    const unnamed = new Set<string>();
    const keepBlob = (b: LayerBlob): void => {
      const had = this.records.layerBlob(b.diffId);
      if (had === null) {
        this.records.putLayerBlob(b);
      } else if (had.blobDigest !== b.blobDigest) {
        const swap = layerCompression(had.mediaType) === null && layerCompression(b.mediaType) !== null;
        if (swap) this.records.putLayerBlob({ ...b, tarSize: b.tarSize || had.tarSize });
        unnamed.add(swap ? had.blobDigest : b.blobDigest);
      }
    };
    const result = this.records.transaction(() => imgs.map((img, i) => {
      const id = ids[i] as string;
      const moved: Array<{ name: string; from: string }> = [];
      if (!this.records.get(id)) {
        const config = JSON.parse(img.configBytes.toString('utf8')) as ImageConfig;
        this.records.insert({
          id, chainId: img.layers.at(-1)?.chainId ?? null, parent: img.parent,
          size: img.layers.reduce((n, l) => n + l.size, 0),
          created: typeof config.created === 'string' ? config.created : '',
          lastTagTime: '',
        }, img.layers);
      }
      for (const b of img.blobs) keepBlob(b);
      for (const t of [...img.tags, ...(img.digests ?? [])]) {
        const prev = this.records.ref(t.name);
        if (prev && prev.imageId !== id) moved.push({ name: t.name, from: prev.imageId });
        this.records.setRef({ name: t.name, repo: t.repo, kind: t.kind }, id, now);
      }
      return { id, moved };
    }));
    // A reader that opened the old blob keeps its fd; one that read the record before the swap
    // reopens by the record (registry-io's openLayerTar).
    for (const digest of unnamed) {
      if (this.records.blobInUse(digest)) continue;
      await this.deps.content.delete(digest).catch((err: unknown) => { if (!(err instanceof NotFound)) throw err; });
    }
    return result;
  }

  /**
   * Removes the image record and releases what no other image uses: layer chains (top first),
   * layer blobs, the config blob. Returns the chain ids removed, as Docker's "Deleted:" lines.
   */
  async deleteImage(id: string): Promise<string[]> {
    const rec = this.get(id);
    const freeChains: string[] = [];
    const freeDiffIds: string[] = [];
    const freeBlobs: string[] = [];
    this.records.transaction(() => {
      for (const l of rec.layers) {
        if (this.records.chainUsers(l.chainId, id) === 0) freeChains.push(l.chainId);
        if (this.records.diffIdUsers(l.diffId, id) === 0) freeDiffIds.push(l.diffId);
      }
      const blobs = freeDiffIds.map((d) => this.records.layerBlob(d)).filter((b): b is LayerBlob => b !== null);
      for (const d of freeDiffIds) this.records.deleteLayerBlob(d);
      this.records.delete(id);
      freeBlobs.push(...blobs.map((b) => b.blobDigest));
    });
    this.#configs.delete(id);
    // The records are gone first: a crash from here on leaves only unreferenced files, never a
    // record pointing at a missing layer.
    const removed: string[] = [];
    for (const chainId of freeChains.reverse()) {
      try {
        await this.deps.layers.remove(chainId);
        removed.push(chainId);
      } catch (err) {
        if (err instanceof NotFound) continue;
        // Something outside images/ (a build cache layer) stacks on it: it and those below stay.
        if (err instanceof Conflict) break;
        throw err;
      }
    }
    for (const digest of [...freeBlobs, id]) {
      if (this.records.blobInUse(digest)) continue;
      await this.deps.content.delete(digest).catch((err: unknown) => { if (!(err instanceof NotFound)) throw err; });
    }
    return removed;
  }
}

export function noSuchImage(ref: string): NotFound {
  return new NotFound(`No such image: ${ref}`);
}

/**
 * A tag target from `repo` and an optional separate `tag` (the API's two query parameters).
 * Docker refuses digests here.
 */
export function tagTarget(repo: string, tag?: string): NamedRef {
  const ref = parseReference(tag ? `${repo}:${tag}` : repo);
  if (ref.digest !== null) throw new InvalidArgument('refusing to create a tag with a digest reference');
  const name = familiarName(ref);
  return { name: `${name}:${ref.tag ?? DEFAULT_TAG}`, repo: name, kind: 'tag' };
}
