/**
 * The ImageService of engine/contract.ts, plus what the engine needs beyond the HTTP contract
 * (resolve, get, commit, applyChanges).
 */
import type { Readable } from 'node:stream';
import type { ImageService, Json } from '../engine/contract.js';
import { InvalidArgument } from '../errdefs/index.js';
import { applyChanges, type ContainerConfig } from './changes.js';
import type { ImageConfig } from './config.js';
import { ImageCore, tagTarget, type NamedRef } from './core.js';
import type { ImageServiceDeps } from './deps.js';
import { checkFilterKeys, danglingFilter, filterTime, globToRegExp, labelsMatch, referenceMatches } from './filters.js';
import { loadArchive } from './load.js';
import type { ImageRecord, LayerBlob, LayerRow } from './records.js';
import { familiarName, parseReference } from './reference.js';
import { addPulledImage, addRepoDigest, discardBlobs, openLayerTar, presentLayers, pushSource, useCompressedBlob, type PulledImage, type PushSource } from './registry-io.js';
import { ImageRemover } from './remove.js';
import { saveArchive, type SaveItem } from './save.js';
import { tarUpperAsLayer } from '../storage/index.js';
import { Rollback, uncompressed } from './streams.js';
import { historyOf, inspectOf, summaryOf } from './views.js';

export interface CommitOptions {
  /** Image the new one stacks on; null for a base image. */
  parentId: string | null;
  /** The new layer (an uncompressed tar of the changes), or null for a config-only image. */
  layerTar: Readable | null;
  /**
   * Instead of `layerTar` (which must then be null): an overlay upper dir over `lowerDirs`, no
   * longer mounted, that the image store takes as the new layer as it is (the directory is
   * consumed). Saves unpacking the layer's tar again.
   */
  layerDir?: { dir: string; lowerDirs: readonly string[] };
  /** Container config of the new image (before `changes`); default: the parent's. */
  config?: ContainerConfig | null;
  comment?: string;
  author?: string;
  changes?: string[];
  repo?: string;
  tag?: string;
  /** History's created_by, e.g. the container's command. */
  createdBy?: string;
  /** Container id recorded in the config's "container" field. */
  container?: string;
  signal?: AbortSignal;
}

export interface ImageServiceExtras {
  /** An image by name[:tag], name@digest, full id or unique id prefix; NotFound "No such image: x". */
  resolve(ref: string): ImageRecord;
  /** An image by full id; NotFound when absent. */
  get(id: string): ImageRecord;
  /**
   * The ids of the images built on top of image `id` (not itself): those whose parent chain
   * (commit, build) reaches it, and those whose layers start with all of its layers and add more
   * (moby's Children, as `ps --filter ancestor=` uses it; pulled and loaded images keep no parent).
   */
  descendants(id: string): string[];
  /** The image's config document (OCI image-spec config.md). */
  config(id: string): Promise<ImageConfig>;
  commit(opts: CommitOptions): Promise<{ Id: string }>;
  applyChanges(config: ContainerConfig, changes: readonly string[]): ContainerConfig;
  load(tar: Readable, opts: { quiet?: boolean; signal?: AbortSignal }): Promise<string[]>;
  save(refs: string[], opts?: { signal?: AbortSignal }): Promise<Readable>;
  /** Registers an image whose blobs a pull put into the content store (registry-io.ts). */
  addPulled(img: PulledImage): Promise<{ Id: string }>;
  /** The config and stored layer blobs a push sends. */
  pushSource(id: string): Promise<PushSource>;
  /** Names an image by repo digest: "localhost:5000/app@sha256:..". */
  addRepoDigest(id: string, name: string): void;
  /** A layer's uncompressed tar from its stored blob, safe against a concurrent blob swap (registry-io.ts). */
  openLayerTar(diffId: string, opts?: { highWaterMark?: number }): Promise<Readable | null>;
  /** Keeps the gzip blob a push made of an uncompressed layer as that layer's blob (registry-io.ts). */
  useCompressedBlob(diffId: string, blob: { digest: string; mediaType: string }): Promise<void>;
  /** Deletes those blobs no image uses (what a failed pull downloaded). */
  discardBlobs(digests: readonly string[]): Promise<void>;
  /**
   * For each layer of an image with these diff ids: whether its layer chain (it and all below)
   * is here, with a stored blob (registry-io.ts): a pull needs not download it, as docker's.
   */
  presentLayers(diffIds: readonly string[]): Promise<boolean[]>;
  /** The tags of a repository, familiar name: "localhost:5000/app" -> ["1.0", "latest"]. */
  tagsOf(repo: string): string[];
  /**
   * Removes what a crash left: blobs no image names (a pull, load or build that died before its
   * image was recorded) and layer directories without their record. Start-up only, before serving.
   */
  collectGarbage(): Promise<{ blobs: number; bytes: number; layerDirs: number }>;
}

export type HakoImageService = Omit<ImageService, 'load' | 'save'> & ImageServiceExtras;

export function createImageService(deps: ImageServiceDeps): HakoImageService {
  const core = new ImageCore(deps);
  const remover = new ImageRemover(core);

  const createImage = async (opts: {
    parent: ImageRecord | null; layer: Readable | null; config: ImageConfig; target: NamedRef | null; signal?: AbortSignal | undefined;
    layerDir?: { dir: string; lowerDirs: readonly string[] } | undefined;
  }): Promise<{ Id: string }> => core.exclusive(async () => {
    const rb = new Rollback();
    try {
      const layers: LayerRow[] = [...(opts.parent?.layers ?? [])];
      const blobs: LayerBlob[] = [];
      if (opts.layer || opts.layerDir) {
        const parentChainId = layers.at(-1)?.chainId ?? null;
        const dir = opts.layerDir;
        const { layer, blob } = (dir ? await core.adoptLayer(parentChainId, dir.dir, dir.lowerDirs, { rb, signal: opts.signal }) : null)
          ?? await core.addLayer(parentChainId, opts.layer ?? tarUpperAsLayer((dir as NonNullable<typeof dir>).dir, (dir as NonNullable<typeof dir>).lowerDirs), {
            mediaType: 'application/vnd.oci.image.layer.v1.tar', rb, ...(opts.signal ? { signal: opts.signal } : {}),
          });
        layers.push(layer);
        blobs.push(blob);
        opts.config.rootfs.diff_ids.push(layer.diffId);
      }
      const [res] = await core.addImages([{
        configBytes: Buffer.from(JSON.stringify(opts.config)),
        layers, blobs, parent: opts.parent?.id ?? '', tags: opts.target ? [opts.target] : [],
      }], rb);
      return { Id: (res as { id: string }).id };
    } catch (err) {
      await rb.run();
      throw err;
    }
  });

  const service: HakoImageService = {
    resolve: (ref) => core.resolve(ref),
    get: (id) => core.get(id),
    descendants(id) {
      const base = core.get(id);
      const all = core.records.all();
      const byId = new Map(all.map((r) => [r.id, r]));
      const stacksOn = (r: ImageRecord): boolean => {
        const n = base.layers.length;
        if (n > 0 && r.layers.length > n && r.layers[n - 1]?.chainId === base.chainId) return true;
        const seen = new Set<string>();
        for (let p = byId.get(r.parent); p && !seen.has(p.id); p = byId.get(p.parent)) {
          if (p.id === base.id) return true;
          seen.add(p.id);
        }
        return false;
      };
      return all.filter((r) => r.id !== base.id && stacksOn(r)).map((r) => r.id);
    },
    config: (id) => core.config(id),
    applyChanges: (config, changes) => applyChanges(config, changes),

    async list(opts) {
      const filters = opts.filters ?? {};
      checkFilterKeys(filters, ['before', 'dangling', 'label', 'reference', 'since', 'until']);
      const dangling = danglingFilter(filters);
      const before = (filters.before ?? []).map((r) => Date.parse(core.resolve(r).created));
      const since = (filters.since ?? []).map((r) => Date.parse(core.resolve(r).created));
      const until = (filters.until ?? []).map((v) => filterTime(v, core.deps.now(), 'until'));
      const patterns = (filters.reference ?? []).map(globToRegExp);
      const out: Json[] = [];
      for (let rec of core.records.all()) {
        const isDangling = rec.repoTags.length === 0 && rec.repoDigests.length === 0;
        // Docker hides intermediate images (untagged ones other images stack on: build steps) unless -a.
        if (!opts.all && isDangling && core.records.children(rec.id).length > 0) continue;
        if (dangling !== null && dangling !== isDangling) continue;
        const created = Date.parse(rec.created);
        if (before.some((t) => !(created < t)) || since.some((t) => !(created > t)) || until.some((t) => !(created < t))) continue;
        const config = await core.config(rec.id);
        if (filters.label && !labelsMatch(config.config?.Labels, filters.label)) continue;
        if (patterns.length > 0) {
          // Like Docker, only the names that match are shown, and an image with none is left out.
          const repoTags = rec.repoTags.filter((t) => referenceMatches(patterns, t));
          const repoDigests = rec.repoDigests.filter((t) => referenceMatches(patterns, t));
          if (repoTags.length === 0 && repoDigests.length === 0) continue;
          rec = { ...rec, repoTags, repoDigests };
        }
        out.push(summaryOf(rec, config, deps.containersUsingImage(rec.id).length));
      }
      return out;
    },

    async diskUsage() {
      // As moby's image disk usage: a layer (chain) used by more than one image is shared; the
      // total counts every distinct layer once.
      const recs = core.records.all();
      const users = new Map<string, { size: number; n: number }>();
      for (const rec of recs) {
        for (const l of rec.layers) {
          const u = users.get(l.chainId);
          if (u) u.n++;
          else users.set(l.chainId, { size: l.size, n: 1 });
        }
      }
      const images: Json[] = [];
      for (const rec of recs) {
        const shared = rec.layers.reduce((n, l) => n + ((users.get(l.chainId)?.n ?? 0) > 1 ? l.size : 0), 0);
        images.push({ ...summaryOf(rec, await core.config(rec.id), deps.containersUsingImage(rec.id).length), SharedSize: shared });
      }
      return { LayersSize: [...users.values()].reduce((n, u) => n + u.size, 0), Images: images };
    },

    async inspect(ref) {
      const rec = core.resolve(ref);
      const config = await core.config(rec.id);
      return inspectOf(rec, config, await graphDriverData(rec));
    },

    async history(ref) {
      const rec = core.resolve(ref);
      const config = await core.config(rec.id);
      const ancestors = new Map<number, ImageRecord>();
      for (let p = rec.parent ? core.records.get(rec.parent) : null; p; p = p.parent ? core.records.get(p.parent) : null) {
        const pc = await core.config(p.id);
        ancestors.set(pc.history?.length ?? 0, p);
      }
      return historyOf(rec, config, ancestors);
    },

    async tag(ref, repo, tag) {
      const rec = core.resolve(ref);
      const target = tagTarget(repo, tag);
      core.records.transaction(() => core.records.setRef(target, rec.id, core.deps.now().toISOString()));
      deps.onEvent?.('tag', rec.id, target.name);
    },

    collectGarbage: () => core.exclusive(async () => {
      const blobs = await deps.content.sweep((digest) => core.records.blobInUse(digest));
      const layerDirs = await deps.layers.sweep();
      return { blobs: blobs.length, bytes: blobs.reduce((n, b) => n + b.size, 0), layerDirs };
    }),

    remove: (ref, opts) => core.exclusive(() => remover.remove(ref, opts)),
    prune: (filters) => core.exclusive(() => remover.prune(filters)),

    async importRootfs(tar, opts) {
      // Everything that can be refused is checked before the first byte is stored.
      const target = opts.repo ? tagTarget(opts.repo, opts.tag) : null;
      const platform = parsePlatform(opts.platform);
      const containerConfig = applyChanges({}, opts.changes ?? []);
      const created = core.deps.now().toISOString();
      const comment = opts.message || 'Imported from -';
      const config: ImageConfig = {
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
        created,
        comment,
        config: containerConfig,
        rootfs: { type: 'layers', diff_ids: [] },
        history: [{ created, created_by: '', comment }],
      };
      const res = await createImage({ parent: null, layer: await uncompressed(tar, 'rootfs tarball'), config, target });
      deps.onEvent?.('import', res.Id, res.Id);
      return res;
    },

    async commit(opts) {
      const target = opts.repo ? tagTarget(opts.repo, opts.tag) : null;
      const parent = opts.parentId ? core.get(opts.parentId) : null;
      const parentConfig = parent ? await core.config(parent.id) : null;
      const created = core.deps.now().toISOString();
      const base = opts.config ?? parentConfig?.config ?? {};
      const config: ImageConfig = {
        architecture: parentConfig?.architecture ?? hostArchitecture(),
        os: parentConfig?.os ?? 'linux',
        ...(parentConfig?.variant ? { variant: parentConfig.variant } : {}),
        created,
        ...(opts.author ? { author: opts.author } : {}),
        ...(opts.comment ? { comment: opts.comment } : {}),
        ...(opts.container ? { container: opts.container } : {}),
        config: applyChanges(base, opts.changes ?? []),
        rootfs: { type: 'layers', diff_ids: [...(parentConfig?.rootfs.diff_ids ?? [])] },
        history: [
          ...(parentConfig?.history ?? []),
          {
            created,
            ...(opts.author ? { author: opts.author } : {}),
            created_by: opts.createdBy ?? '',
            ...(opts.comment ? { comment: opts.comment } : {}),
            ...(opts.layerTar || opts.layerDir ? {} : { empty_layer: true }),
          },
        ],
      };
      if (opts.layerTar && opts.layerDir) throw new InvalidArgument('commit: give the new layer as a tar or as a directory, not both');
      return createImage({ parent, layer: opts.layerTar, layerDir: opts.layerDir, config, target, signal: opts.signal });
    },

    addPulled: (img) => addPulledImage(core, img),
    pushSource: (id) => pushSource(core, id),
    addRepoDigest: (id, name) => addRepoDigest(core, id, name),
    openLayerTar: (diffId, opts) => openLayerTar(core, diffId, opts),
    useCompressedBlob: (diffId, blob) => useCompressedBlob(core, diffId, blob),
    presentLayers: (diffIds) => presentLayers(core, diffIds),
    discardBlobs: (digests) => discardBlobs(core, digests),
    tagsOf: (repo) => core.records.refsInRepo(familiarName(parseReference(repo))).filter((r) => r.kind === 'tag').map((r) => r.name.slice(r.repo.length + 1)),

    load: (tar: Readable, opts: { quiet?: boolean; signal?: AbortSignal }) => loadArchive(core, tar, opts.signal ? { signal: opts.signal } : {}),

    async save(refs: string[], opts: { signal?: AbortSignal } = {}) {
      if (refs.length === 0) throw new InvalidArgument('image save: name at least one image');
      const items: SaveItem[] = [];
      const add = (image: ImageRecord, tags: NamedRef[]): void => {
        const have = items.find((i) => i.image.id === image.id);
        if (!have) items.push({ image, tags: [...tags] });
        else for (const t of tags) if (!have.tags.some((h) => h.name === t.name)) have.tags.push(t);
      };
      for (const ref of refs) {
        const name = core.resolveName(ref);
        const image = core.resolve(ref);
        const byName = name !== null && core.records.ref(name)?.imageId === image.id;
        if (!byName) { add(image, []); continue; }
        const parsed = parseReference(ref);
        if (parsed.tag === null && parsed.digest === null) {
          // A bare repository name saves every tag of it, as `docker save busybox` does.
          const repo = core.records.ref(name)?.repo ?? '';
          for (const r of core.records.refsInRepo(repo)) {
            if (r.kind === 'tag') add(core.get(r.imageId), [{ name: r.name, repo: r.repo, kind: 'tag' }]);
          }
        } else {
          const row = core.records.ref(name);
          add(image, row && row.kind === 'tag' ? [{ name: row.name, repo: row.repo, kind: 'tag' }] : []);
        }
      }
      const archive = await saveArchive(core, items, opts.signal);
      for (const i of items) deps.onEvent?.('save', i.image.id, i.image.id);
      return archive;
    },
  };

  async function graphDriverData(rec: ImageRecord): Promise<Record<string, string>> {
    if (rec.chainId === null || !(await deps.layers.has(rec.chainId))) return {};
    const dirs = await deps.layers.lowerDirs(rec.chainId);
    const [upper, ...lower] = dirs;
    if (upper === undefined) return {};
    const top = upper.replace(/\/diff$/, '');
    return {
      ...(lower.length > 0 ? { LowerDir: lower.join(':') } : {}),
      MergedDir: `${top}/merged`,
      UpperDir: upper,
      WorkDir: `${top}/work`,
    };
  }

  return service;
}

function hostArchitecture(): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[process.arch] ?? process.arch;
}

/** "linux", "linux/amd64", "linux/arm/v7"; only linux images run here. */
function parsePlatform(platform: string | undefined): { os: string; architecture: string; variant?: string } {
  if (!platform) return { os: 'linux', architecture: hostArchitecture() };
  const [os = '', architecture = hostArchitecture(), variant] = platform.toLowerCase().split('/');
  if (os !== 'linux') throw new InvalidArgument(`invalid platform "${platform}": hako runs linux images only`);
  return variant ? { os, architecture, variant } : { os, architecture };
}
