/**
 * `docker rmi` and `docker image prune`, following moby's daemon/images/image_delete.go: removing
 * by name untags first and deletes only when no names remain; removing by id deletes unless
 * several repositories name the image; containers block deletion (a running one even with force).
 */
import type { Filters, Json } from '../engine/contract.js';
import { Conflict, InvalidArgument, NotFound } from '../errdefs/index.js';
import type { ImageCore } from './core.js';
import { checkFilterKeys, danglingFilter, filterTime, labelsMatch } from './filters.js';
import type { ImageRecord, RefRow } from './records.js';
import { isImageIdPrefix, shortId } from './reference.js';

/** moby logs an untag per removed name with the image id as both id and name. */
function untagged(core: ImageCore, id: string): void {
  core.deps.onEvent?.('untag', id, id);
}

interface DeleteConflict {
  hard: boolean;
  used: boolean;
  message: string;
}

/** Docker's conflict masks (image_delete.go). */
const DEPENDENT_CHILD = 1;
const RUNNING_CONTAINER = 2;
const ACTIVE_REFERENCE = 4;
const STOPPED_CONTAINER = 8;
const HARD = DEPENDENT_CHILD | RUNNING_CONTAINER;
const SOFT = ACTIVE_REFERENCE | STOPPED_CONTAINER;

export class ImageRemover {
  readonly #core: ImageCore;
  constructor(core: ImageCore) {
    this.#core = core;
  }

  async remove(input: string, opts: { force?: boolean; noprune?: boolean }): Promise<Json[]> {
    const core = this.#core;
    const force = opts.force === true;
    const prune = opts.noprune !== true;
    const img = core.resolve(input);
    const records: Json[] = [];
    let refs = core.records.refsOf(img.id);
    let quiet = false;

    if (!isIdReference(img.id, input)) {
      // A name was given: untag it; delete the image only if that was its last name.
      if (!force && isSingleReference(refs)) {
        const user = core.deps.containersUsingImage(img.id)[0];
        if (user) {
          throw new Conflict(`conflict: unable to remove repository reference "${input}" (must force) - container ${shortId(user.id)} is using its referenced image ${shortId(img.id)}`);
        }
      }
      const removed = this.#matchingRef(refs, input);
      core.records.deleteRef(removed.name);
      records.push({ Untagged: removed.name });
      untagged(core, img.id);
      refs = core.records.refsOf(img.id);
      // A tag gone and only digests of that repository left: those go too (Docker does the same).
      if (removed.kind === 'tag' && !refs.some((r) => r.kind === 'tag' && r.repo === removed.repo)) {
        for (const r of refs.filter((r) => r.kind === 'digest' && r.repo === removed.repo)) {
          core.records.deleteRef(r.name);
          records.push({ Untagged: r.name });
          untagged(core, img.id);
        }
        refs = core.records.refsOf(img.id);
      }
      if (refs.length > 0) return records;
      quiet = true;
    } else if (isSingleReference(refs)) {
      const conflict = this.#conflict(img, force ? HARD : HARD | (SOFT & ~ACTIVE_REFERENCE));
      if (conflict) throw conflictError(img.id, conflict);
      for (const r of refs) {
        core.records.deleteRef(r.name);
        records.push({ Untagged: r.name });
        untagged(core, img.id);
      }
    }
    await this.#deleteHelper(img.id, records, force, prune, quiet);
    return records;
  }

  async prune(filters: Filters): Promise<{ ImagesDeleted: Json[]; SpaceReclaimed: number }> {
    const core = this.#core;
    checkFilterKeys(filters, ['dangling', 'until', 'label', 'label!']);
    const danglingOnly = danglingFilter(filters) ?? true;
    // moby's getUntilFromPruneFilters: one until only.
    if ((filters.until ?? []).length > 1) throw new InvalidArgument('more than one until filter specified');
    const until = (filters.until ?? []).map((v) => filterTime(v, core.deps.now(), 'until'));
    const deleted: Json[] = [];
    let reclaimed = 0;
    for (const rec of core.records.all()) {
      if (!core.records.get(rec.id)) continue; // went with an earlier one's parent
      if (danglingOnly && (rec.repoTags.length > 0 || rec.repoDigests.length > 0)) continue;
      if (core.records.children(rec.id).length > 0) continue;
      if (core.deps.containersUsingImage(rec.id).length > 0) continue;
      const created = Date.parse(rec.created);
      if (until.length > 0 && !(created < Math.min(...until))) continue;
      const labels = (await core.config(rec.id)).config?.Labels;
      if (filters.label && !labelsMatch(labels, filters.label)) continue;
      if (filters['label!'] && !labelsMatch(labels, filters['label!'], true)) continue;
      const records: Json[] = [];
      for (const r of rec.repoTags.concat(rec.repoDigests)) {
        core.records.deleteRef(r);
        records.push({ Untagged: r });
        untagged(core, rec.id);
      }
      const before = this.#layerBytes();
      try {
        await this.#deleteHelper(rec.id, records, false, true, true);
      } catch (err) {
        if (err instanceof Conflict) continue;
        throw err;
      }
      reclaimed += before - this.#layerBytes();
      deleted.push(...records);
    }
    reclaimed += await this.#sweepLayerBlobs();
    return { ImagesDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  /**
   * Deletes the second blobs of layers: a blob named by no image whose digest is the diff id of a
   * layer stored as another blob (the uncompressed tar of a layer kept gzip'ed, left by versions
   * that did not clean it up). Nothing in flight needs one: readers open layers by their record.
   * Other unnamed blobs may belong to a pull or push under way, and are left alone. Returns the
   * bytes freed.
   */
  async #sweepLayerBlobs(): Promise<number> {
    const core = this.#core;
    let freed = 0;
    for (const b of await core.deps.content.list()) {
      if (core.records.blobInUse(b.digest) || core.records.layerBlob(b.digest) === null) continue;
      try {
        await core.deps.content.delete(b.digest);
        freed += b.size;
      } catch (err) {
        if (!(err instanceof NotFound)) throw err;
      }
    }
    return freed;
  }

  /** Bytes of the distinct layers images hold (what pruning gives back). */
  #layerBytes(): number {
    const seen = new Map<string, number>();
    for (const rec of this.#core.records.all()) for (const l of rec.layers) seen.set(l.chainId, l.size);
    let n = 0;
    for (const s of seen.values()) n += s;
    return n;
  }

  /** The image's ref that `input` names (normalised the way resolve() found it). */
  #matchingRef(refs: RefRow[], input: string): RefRow {
    const core = this.#core;
    for (const r of refs) {
      if (core.resolveName(input) === r.name) return r;
    }
    // resolve() matched this image by name, so one of its refs is the one.
    return refs[0] as RefRow;
  }

  async #deleteHelper(id: string, records: Json[], force: boolean, prune: boolean, quiet: boolean): Promise<void> {
    const core = this.#core;
    const img = core.get(id);
    const conflict = this.#conflict(img, force ? HARD : HARD | SOFT);
    if (conflict) {
      if (quiet && (!this.#isDangling(img) || conflict.used)) return;
      throw conflictError(id, conflict);
    }
    const parent = img.parent;
    for (const r of core.records.refsOf(id)) {
      core.records.deleteRef(r.name);
      records.push({ Untagged: r.name });
      untagged(core, id);
    }
    const removedLayers = await core.deleteImage(id);
    records.push({ Deleted: id });
    core.deps.onEvent?.('delete', id, id);
    for (const chainId of removedLayers) records.push({ Deleted: chainId });
    if (!prune || parent === '' || !core.records.get(parent)) return;
    // Prune the parent when nothing else names or uses it; quietly, never forced.
    await this.#deleteHelper(parent, records, false, true, true);
  }

  #isDangling(img: ImageRecord): boolean {
    return this.#core.records.refsOf(img.id).length === 0 && this.#core.records.children(img.id).length === 0;
  }

  #conflict(img: ImageRecord, mask: number): DeleteConflict | null {
    const core = this.#core;
    if (mask & DEPENDENT_CHILD && core.records.children(img.id).length > 0) {
      return { hard: true, used: false, message: 'image has dependent child images' };
    }
    const users = core.deps.containersUsingImage(img.id);
    const running = users.find((c) => c.running);
    if (mask & RUNNING_CONTAINER && running) {
      return { hard: true, used: true, message: `image is being used by running container ${shortId(running.id)}` };
    }
    if (mask & ACTIVE_REFERENCE && core.records.refsOf(img.id).length > 0) {
      return { hard: false, used: false, message: 'image is referenced in multiple repositories' };
    }
    const stopped = users.find((c) => !c.running);
    if (mask & STOPPED_CONTAINER && stopped) {
      return { hard: false, used: true, message: `image is being used by stopped container ${shortId(stopped.id)}` };
    }
    return null;
  }
}

function conflictError(id: string, c: DeleteConflict): Conflict {
  return new Conflict(`conflict: unable to delete ${shortId(id)} (${c.hard ? 'cannot be forced' : 'must be forced'}) - ${c.message}`);
}

/** Was the image named by (a prefix of) its id rather than by a name? */
function isIdReference(id: string, input: string): boolean {
  if (!isImageIdPrefix(input)) return false;
  const hex = input.startsWith('sha256:') ? input.slice(7) : input;
  return id.slice(7).startsWith(hex);
}

/**
 * Docker's isSingleReference: true when the names are one tag (plus digests of that same
 * repository), or digests of a single repository.
 */
function isSingleReference(refs: RefRow[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  const tags = refs.filter((r) => r.kind === 'tag');
  if (tags.length > 1) return false;
  const digestRepos = new Set(refs.filter((r) => r.kind === 'digest').map((r) => r.repo));
  const single = tags[0] ?? refs[0] as RefRow;
  return digestRepos.size === 1 && digestRepos.has(single.repo);
}
