/**
 * The snapshotter: one directory per layer chain at <root>/<chain hex>/diff, in overlay form
 * (whiteouts are char 0/0 devices, opaque dirs carry trusted.overlay.opaque), and containers'
 * root filesystems as overlay mounts over them.
 *
 * Layers are named by chain ID (OCI image-spec config.md#layer-chainid), so the same layer on a
 * different parent is a different snapshot and an identical stack is stored once. Each layer has a
 * short link <root>/l/<short id> -> ../<chain hex>/diff, as Docker's overlay2 does, so the lowerdir
 * list of a deep image still fits in the one page of mount data the kernel accepts.
 *
 * A layer is unpacked into <root>/tmp and renamed into place when complete; its row in the
 * metadata db is written last, so after a crash a directory without a row is garbage, never a
 * half layer.
 */
import { randomBytes } from 'node:crypto';
import { chown, mkdir, readdir, rename, rm, rmdir, stat, symlink, unlink, utimes } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type Database from 'better-sqlite3';
import { Conflict, Internal, InvalidArgument, NotFound } from '../errdefs/index.js';
import { MNT_DETACH } from '../native/index.js';
import { requireNative } from './sys.js';
import { digestHex, nextChainId } from './digest.js';
import { LowerView } from './changes.js';
import { applyLayerTar } from './layer-apply.js';
import type { MetadataDb } from './metadata-db.js';
import { isMountPoint, MOUNT_DATA_MAX, mountOverlay, overlayData, unmount } from './overlay-mount.js';
import { tarLayerDir } from './tar.js';

export interface LayerInfo {
  chainId: string;
  diffId: string;
  /** Chain ID of the layer below, null for a base layer. */
  parent: string | null;
  /** Bytes of file content in this layer alone. */
  size: number;
}

export interface CreateLayerOptions {
  /** Refuse the tar (InvalidArgument) unless its uncompressed sha256 is this. */
  expectedDiffId?: string;
  signal?: AbortSignal;
  /**
   * The parent layer is still being created (a pull unpacks layers side by side): the tar
   * unpacks at once, and the layer commits only after this settled (a rejection fails it too).
   */
  parentReady?: Promise<unknown>;
}

export interface AdoptLayerOptions {
  /** The lower dirs the tree was the overlay upper dir of (top first): whiteouts of names none of them holds are dropped. */
  lowerDirs: readonly string[];
  /** Stores the layer tar read from the tree (e.g. into the content store) and returns its sha256, the diff ID. */
  storeTar: (tar: Readable) => Promise<string>;
  signal?: AbortSignal;
}

export interface LayerStoreOptions {
  /** <dataRoot>/overlay */
  root: string;
  db: MetadataDb;
  /**
   * userns-remap: every container's lower layers are idmapped mounts through this user namespace
   * (so a file of uid 0 in a layer shows as `uid`), its upper dir's root and its directory belong
   * to the remapped root. Layers on disk stay as unpacked; nothing is copied or chowned.
   */
  idmap?: { usernsFd: number; uid: number; gid: number };
}

const MIGRATIONS = [
  `CREATE TABLE layers (
    chain_id TEXT PRIMARY KEY,
    diff_id TEXT NOT NULL,
    parent TEXT REFERENCES layers (chain_id),
    size INTEGER NOT NULL,
    short_id TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
  ) STRICT`,
  'CREATE INDEX layers_parent ON layers (parent)',
];

interface LayerRow {
  chain_id: string;
  diff_id: string;
  parent: string | null;
  size: number;
  short_id: string;
}

export class LayerStore {
  readonly root: string;
  readonly #idmap: LayerStoreOptions['idmap'];
  #ready: Promise<void> | undefined;
  /** Serializes the short step that moves a finished layer into place and records it. */
  #commitQueue: Promise<unknown> = Promise.resolve();
  #get: Database.Statement<[string], LayerRow>;
  #insert: Database.Statement<[string, string, string | null, number, string, number]>;
  #delete: Database.Statement<[string]>;
  #childOf: Database.Statement<[string], { chain_id: string }>;

  constructor(opts: LayerStoreOptions) {
    this.root = opts.root;
    this.#idmap = opts.idmap;
    opts.db.migrate('storage.layers', MIGRATIONS);
    const db = opts.db.db;
    this.#get = db.prepare('SELECT chain_id, diff_id, parent, size, short_id FROM layers WHERE chain_id = ?');
    this.#insert = db.prepare('INSERT INTO layers (chain_id, diff_id, parent, size, short_id, created_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.#delete = db.prepare('DELETE FROM layers WHERE chain_id = ?');
    this.#childOf = db.prepare('SELECT chain_id FROM layers WHERE parent = ? LIMIT 1');
  }

  /**
   * Unpacks `tar` (gzip or plain) as a layer on top of `parentChainId` and returns its IDs. An
   * identical layer already stored is reused; when `expectedDiffId` already names a stored layer,
   * `tar` is not read at all (it is destroyed). On any failure nothing is left behind.
   */
  async createLayer(parentChainId: string | null, tar: Readable, opts: CreateLayerOptions = {}): Promise<LayerInfo> {
    if (parentChainId !== null && opts.parentReady === undefined) this.get(parentChainId);
    if (opts.expectedDiffId !== undefined) {
      const known = this.#get.get(nextChainId(parentChainId, opts.expectedDiffId));
      if (known) {
        tar.destroy();
        return toInfo(known);
      }
    }
    await this.#init();
    const temp = join(this.root, 'tmp', randomBytes(12).toString('hex'));
    try {
      await mkdir(join(temp, 'diff'), { recursive: true, mode: 0o700 });
      const { diffId, size } = await applyLayerTar(tar, join(temp, 'diff'), { mode: 'overlay', ...(opts.signal ? { signal: opts.signal } : {}) });
      if (opts.expectedDiffId !== undefined && diffId !== opts.expectedDiffId) {
        throw new InvalidArgument(`layer diff ID mismatch: expected ${opts.expectedDiffId}, got ${diffId}; the layer is corrupt or not the one the image config names`);
      }
      const chainId = nextChainId(parentChainId, diffId);
      if (opts.parentReady !== undefined) await opts.parentReady;
      return await this.#serialized(() => this.#commit(temp, { chainId, diffId, parent: parentChainId, size }));
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }

  /**
   * Takes `dir`, a finished overlay upper dir nothing has mounted any more, as the layer on top of
   * `parentChainId` without unpacking anything: the tree is moved into the store, its layer tar
   * (the same bytes `tarLayer` gives later: whiteouts of names absent below are removed from the
   * tree) goes once through `opts.storeTar`, whose digest is the diff ID. Returns null, leaving
   * `dir` untouched, when the tree cannot be adopted (userns-remap, another filesystem); otherwise
   * `dir` is consumed, whatever happens.
   */
  async adoptLayer(parentChainId: string | null, dir: string, opts: AdoptLayerOptions): Promise<LayerInfo | null> {
    if (parentChainId !== null) this.get(parentChainId);
    if (this.#idmap) return null;
    await this.#init();
    const temp = join(this.root, 'tmp', randomBytes(12).toString('hex'));
    await mkdir(temp, { mode: 0o700 });
    try {
      const tree = join(temp, 'diff');
      try {
        await rename(dir, tree);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EXDEV') return null;
        throw err;
      }
      const view = new LowerView(opts.lowerDirs);
      const dropped: string[] = [];
      const keepWhiteout = async (rel: string) => {
        const keep = await view.exists(rel);
        if (!keep) dropped.push(rel);
        return keep;
      };
      // The tar counts the bytes of the files as it goes: no second walk for the layer's size.
      const stats = { fileBytes: 0 };
      const diffId = await opts.storeTar(tarLayerDir(tree, { keepWhiteout, stats, ...(opts.signal ? { signal: opts.signal } : {}) }));
      await removeWhiteouts(tree, dropped);
      const size = stats.fileBytes;
      const chainId = nextChainId(parentChainId, diffId);
      return await this.#serialized(() => this.#commit(temp, { chainId, diffId, parent: parentChainId, size }));
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }

  async #commit(temp: string, layer: LayerInfo): Promise<LayerInfo> {
    const existing = this.#get.get(layer.chainId);
    if (existing) return toInfo(existing);
    if (layer.parent !== null && !this.#get.get(layer.parent)) {
      throw new NotFound(`parent layer ${layer.parent}: removed while a layer was being created on it`);
    }
    const dir = this.#dirOf(layer.chainId);
    // A directory without a row is left by a crash between rename and insert: replace it.
    await rm(dir, { recursive: true, force: true });
    await rename(temp, dir);
    const shortId = newShortId();
    try {
      await symlink(`../${digestHex(layer.chainId)}/diff`, join(this.root, 'l', shortId));
      this.#insert.run(layer.chainId, layer.diffId, layer.parent, layer.size, shortId, Date.now());
    } catch (err) {
      await rm(join(this.root, 'l', shortId), { force: true });
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    return layer;
  }

  has(chainId: string): boolean {
    digestHex(chainId);
    return this.#get.get(chainId) !== undefined;
  }

  get(chainId: string): LayerInfo {
    return toInfo(this.#row(chainId));
  }

  /** The layer's own directory (in overlay form). */
  layerDir(chainId: string): string {
    this.#row(chainId);
    return join(this.#dirOf(chainId), 'diff');
  }

  /** Directories of the layer and all below it, top first: an overlay lowerdir list. */
  lowerDirs(chainId: string): string[] {
    return this.#chain(chainId).map((row) => join(this.#dirOf(row.chain_id), 'diff'));
  }

  /** Removes a layer. Conflict while a layer is stacked on it. */
  async remove(chainId: string): Promise<void> {
    const row = this.#row(chainId);
    const child = this.#childOf.get(chainId);
    if (child) {
      throw new Conflict(`layer ${chainId} is the parent of layer ${child.chain_id}; remove the images using that layer first`);
    }
    // Row first: a crash before the files go leaves garbage, never a row without its files.
    this.#delete.run(chainId);
    await rm(join(this.root, 'l', row.short_id), { force: true });
    await rm(this.#dirOf(chainId), { recursive: true, force: true });
  }

  /** The layer as an image layer tar (whiteouts as `.wh.` entries), for `save` without the blob. */
  tarLayer(chainId: string, opts: { signal?: AbortSignal } = {}): Readable {
    return tarLayerDir(this.layerDir(chainId), opts);
  }

  /**
   * Mounts the root filesystem of a container over `chainId` (null: an image without layers)
   * at <containerDir>/rootfs, with its writable layer in <containerDir>/diff. Returns the rootfs
   * path; mounting an already mounted container just returns it. `idmap: false`: not through the
   * remap user namespace (a `--userns=host` container sees the layers' real ids).
   */
  async mountRootfs(chainId: string | null, containerDir: string, opts: { initDir?: string; volatile?: boolean; idmap?: boolean } = {}): Promise<string> {
    await this.#init();
    const rootfs = join(containerDir, 'rootfs');
    const upperDir = join(containerDir, 'diff');
    const workDir = join(containerDir, 'work');
    for (const p of [containerDir, upperDir, workDir, rootfs]) {
      if (/[,:]/.test(p)) throw new InvalidArgument(`container directory "${containerDir}": overlay cannot mount paths containing "," or ":"`);
    }
    // Lower dirs relative to the store root: through the short links, or the empty dir.
    const lowers = chainId === null ? ['empty'] : this.#chain(chainId).map((row) => `l/${row.short_id}`);
    // Docker's "init layer": mount points the engine binds over (/etc/hosts ...) exist below the
    // container's upper dir, so they never show in diff, commit or export.
    if (opts.initDir) lowers.unshift(opts.initDir);
    await Promise.all([upperDir, workDir, rootfs].map((p) => mkdir(p, { recursive: true, mode: 0o755 })));
    if (await isMountPoint(rootfs)) return rootfs;
    // A volatile mount leaves work/incompat/volatile behind, and overlay refuses any later mount
    // over that work dir. Ours were unmounted cleanly (or belong to --rm containers): drop it.
    await rm(join(workDir, 'work', 'incompat'), { recursive: true, force: true });
    if (this.#idmap && opts.idmap !== false) return this.#mountIdmapped(lowers.map((l) => resolve(this.root, l)), containerDir, upperDir, workDir, rootfs, this.#idmap);
    const absolute = lowers.map((l) => resolve(this.root, l));
    const volatile = opts.volatile === true;
    if (overlayData({ lowerDirs: absolute, upperDir, workDir, volatile }).length <= MOUNT_DATA_MAX) {
      await mountOverlay({ lowerDirs: absolute, upperDir, workDir, target: rootfs, volatile });
    } else {
      const data = overlayData({ lowerDirs: lowers, upperDir, workDir, volatile });
      if (data.length > MOUNT_DATA_MAX) {
        throw new InvalidArgument(`image with ${lowers.length} layers: too deep to mount as one overlay (the mount options exceed ${MOUNT_DATA_MAX} bytes); squash some layers`);
      }
      await mountOverlay({ lowerDirs: lowers, upperDir, workDir, target: rootfs, cwd: this.root, volatile });
    }
    return rootfs;
  }

  /**
   * The overlay of a remapped container: each lower dir is first attached as an idmapped mount
   * under <containerDir>/idmap/<n>, the overlay is mounted over those, and they are detached
   * right away (overlayfs keeps private clones of its layers), so nothing is left to unmount.
   */
  async #mountIdmapped(lowers: string[], containerDir: string, upperDir: string, workDir: string, rootfs: string,
    idmap: NonNullable<LayerStoreOptions['idmap']>): Promise<string> {
    const addon = requireNative('userns-remap (idmapped image layers)');
    const up = await stat(upperDir);
    if (up.uid === 0 && up.gid === 0) await chown(upperDir, idmap.uid, idmap.gid);
    // The remapped root (runc's init in the user namespace) must reach rootfs/ through here.
    await chown(containerDir, 0, idmap.gid);
    const base = join(containerDir, 'idmap');
    await clearMountPoints(base, addon);
    const points = lowers.map((_, i) => join(base, String(i)));
    await Promise.all(points.map((p) => mkdir(p, { recursive: true, mode: 0o700 })));
    try {
      for (const [i, lower] of lowers.entries()) {
        try {
          addon.idmapMount(lower, points[i]!, idmap.usernsFd);
        } catch (err) {
          throw new Internal(`userns-remap: idmapped mount of layer ${lower}: ${(err as Error).message}`, { cause: err });
        }
      }
      const data = overlayData({ lowerDirs: points, upperDir, workDir });
      if (data.length > MOUNT_DATA_MAX) {
        throw new InvalidArgument(`image with ${lowers.length} layers: too deep to mount as one overlay (the mount options exceed ${MOUNT_DATA_MAX} bytes); squash some layers`);
      }
      await mountOverlay({ lowerDirs: points, upperDir, workDir, target: rootfs });
    } finally {
      await clearMountPoints(base, addon);
    }
    return rootfs;
  }

  /** Unmounts a container's rootfs (lazily when busy); nothing to do when it is not mounted. */
  unmountRootfs(containerDir: string): Promise<void> {
    return unmount(join(containerDir, 'rootfs'));
  }

  isMounted(containerDir: string): Promise<boolean> {
    return isMountPoint(join(containerDir, 'rootfs'));
  }

  #row(chainId: string): LayerRow {
    digestHex(chainId);
    const row = this.#get.get(chainId);
    if (!row) throw new NotFound(`layer ${chainId}: not found in the layer store`);
    return row;
  }

  /** The rows from `chainId` down to its base layer. */
  #chain(chainId: string): LayerRow[] {
    const rows: LayerRow[] = [];
    for (let row: LayerRow | undefined = this.#row(chainId); row; row = row.parent === null ? undefined : this.#row(row.parent)) {
      rows.push(row);
    }
    return rows;
  }

  #dirOf(chainId: string): string {
    return join(this.root, digestHex(chainId));
  }

  #serialized<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#commitQueue.then(fn);
    this.#commitQueue = result.catch(() => {});
    return result;
  }

  /**
   * Removes the layer directories that have no row (a crash between `remove`'s row and its files,
   * or before a commit recorded its row) and the short links that point at no layer. Only while
   * no layer is being created: hakod's start-up. Returns how many directories went.
   */
  async sweep(): Promise<number> {
    await this.#init();
    let removed = 0;
    for (const name of await readdir(this.root)) {
      if (!/^[0-9a-f]{64}$/.test(name) || this.#get.get(`sha256:${name}`) !== undefined) continue;
      // Layer directories are never mount points (containers mount elsewhere): rm stays inside.
      await rm(join(this.root, name), { recursive: true, force: true });
      removed++;
    }
    const links = join(this.root, 'l');
    for (const name of await readdir(links)) {
      const target = await stat(join(links, name)).then(() => true, () => false);
      if (!target) await unlink(join(links, name));
    }
    return removed;
  }

  /** Creates the layout and clears what a crash left in tmp/. Runs once. */
  #init(): Promise<void> {
    this.#ready ??= (async () => {
      await Promise.all(['l', 'tmp', 'empty'].map((d) => mkdir(join(this.root, d), { recursive: true, mode: 0o700 })));
      for (const name of await readdir(join(this.root, 'tmp'))) {
        await rm(join(this.root, 'tmp', name), { recursive: true, force: true });
      }
    })().catch((err: unknown) => {
      this.#ready = undefined;
      throw err;
    });
    return this.#ready;
  }
}

/**
 * Detaches whatever is mounted on <base>/* and removes the (then empty) directories. Never a
 * recursive rm: a mount point still attached would lead it into an image layer.
 */
async function clearMountPoints(base: string, addon: { umount2(target: string, flags: number): void }): Promise<void> {
  const names = await readdir(base).catch(() => [] as string[]);
  for (const name of names) {
    const p = join(base, name);
    try {
      addon.umount2(p, MNT_DETACH);
    } catch {
      // not a mount point (any more)
    }
    await rmdir(p);
  }
  await rmdir(base).catch(() => undefined);
}

/** Deletes the whiteout devices at `rels`, keeping their directories' mtimes (they are in the layer tar). */
async function removeWhiteouts(tree: string, rels: readonly string[]): Promise<void> {
  const byDir = new Map<string, string[]>();
  for (const rel of rels) {
    const d = dirname(join(tree, rel));
    byDir.set(d, [...(byDir.get(d) ?? []), join(tree, rel)]);
  }
  for (const [d, paths] of byDir) {
    const st = await stat(d);
    for (const p of paths) await unlink(p);
    await utimes(d, st.atime, st.mtime);
  }
}

function toInfo(row: LayerRow): LayerInfo {
  return { chainId: row.chain_id, diffId: row.diff_id, parent: row.parent, size: row.size };
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** 26 random base32 characters (130 bits), like Docker's overlay2 link ids. */
function newShortId(): string {
  const bytes = randomBytes(26);
  let id = '';
  for (const b of bytes) id += BASE32[b & 31];
  return id;
}

