/**
 * `--cache-from IMAGE` with the semantics of Docker's legacy builder (moby image/cache): an image
 * named there is a cache source through its history. A step matches when its parent image's
 * history and layers are a prefix of the source's, and the source's next history entry has the
 * step's `created_by` (hako writes the same created_by for the same step: the instruction after
 * substitution, and for COPY/ADD the content hash of what it copies). A matched step's image is
 * made from the source's layer (tarred from the layer store; when the bytes are the same the
 * chain is not unpacked again) or, for an empty-layer entry, from the config alone. So a pulled
 * or loaded image, whose intermediate images do not exist here, still gives its layers to a build.
 */
import type { ImageConfig } from '../images/index.js';
import { chainIdOf, tarUpperAsLayer } from '../storage/index.js';

interface Source {
  ref: string;
  config: ImageConfig;
}

export interface CacheFromDeps {
  resolve(ref: string): { id: string; chainId: string | null };
  config(id: string): Promise<ImageConfig>;
  lowerDirs(chainId: string): string[];
}

/** What a step reuses from a source: a layer (its upper dir in the layer store, over the parent's) or nothing but config. */
export interface CacheFromMatch {
  ref: string;
  /** The layer to stack, or null for an empty-layer history entry. */
  layer: { dir: string } | null;
}

export class CacheFrom {
  readonly #sources: Source[];
  readonly #deps: CacheFromDeps;

  private constructor(deps: CacheFromDeps, sources: Source[]) {
    this.#deps = deps;
    this.#sources = sources;
  }

  /** Loads the named images; one that is not here is reported through `warn` and skipped, as docker does. */
  static async open(deps: CacheFromDeps, refs: readonly string[], warn: (msg: string) => void): Promise<CacheFrom> {
    const sources: Source[] = [];
    for (const ref of refs) {
      let id: string;
      try {
        id = deps.resolve(ref).id;
      } catch {
        warn(`[Warning] cache-from image ${ref} not found: pull or load it first; it is not used as a cache source`);
        continue;
      }
      sources.push({ ref, config: await deps.config(id) });
    }
    return new CacheFrom(deps, sources);
  }

  get empty(): boolean {
    return this.#sources.length === 0;
  }

  /** The source entry that follows `parent` (null: scratch) and was made by `createdBy`, or null. */
  async match(parentId: string | null, createdBy: string): Promise<CacheFromMatch | null> {
    const parent = parentId === null ? null : await this.#deps.config(parentId);
    const ph = parent?.history ?? [];
    const pd = parent?.rootfs.diff_ids ?? [];
    for (const s of this.#sources) {
      const sh = s.config.history ?? [];
      const sd = s.config.rootfs.diff_ids;
      if (sh.length <= ph.length || sd.length < pd.length) continue;
      if (!pd.every((d, i) => sd[i] === d)) continue;
      if (!ph.every((h, i) => (sh[i]?.created_by ?? '') === (h.created_by ?? '') && Boolean(sh[i]?.empty_layer) === Boolean(h.empty_layer))) continue;
      const next = sh[ph.length];
      if (!next || (next.created_by ?? '') !== createdBy) continue;
      if (next.empty_layer) return { ref: s.ref, layer: null };
      const diffIds = sd.slice(0, pd.length + 1);
      if (diffIds.length !== pd.length + 1) continue;
      const dirs = this.#deps.lowerDirs(chainIdOf(diffIds));
      if (dirs[0] === undefined) continue;
      return { ref: s.ref, layer: { dir: dirs[0] } };
    }
    return null;
  }

  /** The tar of a matched layer over its parent chain's dirs (whiteouts kept where they hide a lower file). */
  static layerTar(layerDir: string, parentLowerDirs: readonly string[]): ReturnType<typeof tarUpperAsLayer> {
    return tarUpperAsLayer(layerDir, parentLowerDirs);
  }
}
