/**
 * Image records in the metadata database: the images, their layer stacks, the names that point
 * at them (tags and repo digests, in familiar form: "nginx:latest", "nginx@sha256:.."), and which
 * content-store blob holds each layer's original bytes (so `save` streams them back unchanged).
 * Synchronous: better-sqlite3 calls are cheap and run inside the caller's transaction.
 */
import type Database from 'better-sqlite3';
import type { MetadataDbLike as MetadataDb } from './deps.js';

/** Schema history of the "images" component: append only (statement i = version i+1). */
const MIGRATIONS = [
  `CREATE TABLE images (
    id TEXT PRIMARY KEY,
    chain_id TEXT,
    parent TEXT NOT NULL DEFAULT '',
    size INTEGER NOT NULL,
    created TEXT NOT NULL,
    last_tag_time TEXT NOT NULL DEFAULT ''
  ) STRICT`,
  `CREATE TABLE image_layers (
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    chain_id TEXT NOT NULL,
    diff_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (image_id, idx)
  ) STRICT`,
  `CREATE INDEX image_layers_by_chain ON image_layers (chain_id)`,
  `CREATE TABLE image_refs (
    name TEXT PRIMARY KEY,
    repo TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('tag', 'digest')),
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
  ) STRICT`,
  `CREATE INDEX image_refs_by_image ON image_refs (image_id)`,
  `CREATE TABLE image_layer_blobs (
    diff_id TEXT PRIMARY KEY,
    blob_digest TEXT NOT NULL,
    media_type TEXT NOT NULL,
    tar_size INTEGER NOT NULL
  ) STRICT`,
];

export interface LayerRow {
  chainId: string;
  diffId: string;
  /** Bytes of the layer as LayerStore counted it. */
  size: number;
}

export interface ImageRow {
  id: string;
  /** Top layer's chain id; null for an image without layers. */
  chainId: string | null;
  /** Parent image id ('' when none), set by commit. */
  parent: string;
  size: number;
  /** RFC 3339 from the config; '' when the config has none. */
  created: string;
  /** RFC 3339 of the last local tag; '' when never tagged here. */
  lastTagTime: string;
}

export interface ImageRecord extends ImageRow {
  layers: LayerRow[];
  repoTags: string[];
  repoDigests: string[];
}

export interface LayerBlob {
  diffId: string;
  blobDigest: string;
  mediaType: string;
  /** Size of the uncompressed tar (the bytes whose digest is diffId). */
  tarSize: number;
}

export interface RefRow {
  name: string;
  repo: string;
  kind: 'tag' | 'digest';
  imageId: string;
}

interface RawImage {
  id: string; chain_id: string | null; parent: string; size: number; created: string; last_tag_time: string;
}

export class ImageRecords {
  readonly #mdb: MetadataDb;
  readonly #s: ReturnType<typeof prepare>;

  constructor(mdb: MetadataDb) {
    this.#mdb = mdb;
    mdb.migrate('images', MIGRATIONS);
    this.#s = prepare(mdb.db);
  }

  transaction<T>(fn: () => T): T {
    return this.#mdb.transaction(fn);
  }

  ids(): string[] {
    return (this.#s.allIds.all() as Array<{ id: string }>).map((r) => r.id);
  }

  get(id: string): ImageRecord | null {
    const raw = this.#s.image.get(id) as RawImage | undefined;
    if (!raw) return null;
    const refs = this.#s.refsOf.all(id) as Array<{ name: string; kind: string }>;
    return {
      id: raw.id,
      chainId: raw.chain_id,
      parent: raw.parent,
      size: raw.size,
      created: raw.created,
      lastTagTime: raw.last_tag_time,
      layers: (this.#s.layersOf.all(id) as Array<{ chain_id: string; diff_id: string; size: number }>)
        .map((l) => ({ chainId: l.chain_id, diffId: l.diff_id, size: l.size })),
      repoTags: refs.filter((r) => r.kind === 'tag').map((r) => r.name),
      repoDigests: refs.filter((r) => r.kind === 'digest').map((r) => r.name),
    };
  }

  all(): ImageRecord[] {
    return this.ids().map((id) => this.get(id)).filter((r): r is ImageRecord => r !== null);
  }

  /** Ids starting with `prefix` (hex, without "sha256:"). */
  idsWithPrefix(hexPrefix: string): string[] {
    return (this.#s.byPrefix.all(`sha256:${hexPrefix}%`) as Array<{ id: string }>).map((r) => r.id);
  }

  insert(row: ImageRow, layers: readonly LayerRow[]): void {
    this.#s.insertImage.run(row.id, row.chainId, row.parent, row.size, row.created, row.lastTagTime);
    layers.forEach((l, idx) => this.#s.insertLayer.run(row.id, idx, l.chainId, l.diffId, l.size));
  }

  delete(id: string): void {
    this.#s.deleteImage.run(id);
  }

  children(id: string): string[] {
    return (this.#s.children.all(id) as Array<{ id: string }>).map((r) => r.id);
  }

  ref(name: string): RefRow | null {
    const r = this.#s.ref.get(name) as { name: string; repo: string; kind: 'tag' | 'digest'; image_id: string } | undefined;
    return r ? { name: r.name, repo: r.repo, kind: r.kind, imageId: r.image_id } : null;
  }

  refsOf(imageId: string): RefRow[] {
    return (this.#s.refRowsOf.all(imageId) as Array<{ name: string; repo: string; kind: 'tag' | 'digest' }>)
      .map((r) => ({ name: r.name, repo: r.repo, kind: r.kind, imageId }));
  }

  refsInRepo(repo: string): RefRow[] {
    return (this.#s.refsInRepo.all(repo) as Array<{ name: string; kind: 'tag' | 'digest'; image_id: string }>)
      .map((r) => ({ name: r.name, repo, kind: r.kind, imageId: r.image_id }));
  }

  /** Points `name` at `imageId` (moving it off any other image); stamps LastTagTime. */
  setRef(ref: Omit<RefRow, 'imageId'>, imageId: string, when: string): void {
    this.#s.upsertRef.run(ref.name, ref.repo, ref.kind, imageId);
    if (ref.kind === 'tag') this.#s.touchTag.run(when, imageId);
  }

  deleteRef(name: string): void {
    this.#s.deleteRef.run(name);
  }

  /** How many images other than `exceptImage` stack on `chainId`. */
  chainUsers(chainId: string, exceptImage: string): number {
    return (this.#s.chainUsers.get(chainId, exceptImage) as { n: number }).n;
  }

  diffIdUsers(diffId: string, exceptImage: string): number {
    return (this.#s.diffIdUsers.get(diffId, exceptImage) as { n: number }).n;
  }

  /** Size recorded for a layer chain by any image, or null when no image has it. */
  chainSize(chainId: string): number | null {
    const r = this.#s.chainSize.get(chainId) as { size: number } | undefined;
    return r ? r.size : null;
  }

  layerBlob(diffId: string): LayerBlob | null {
    const r = this.#s.layerBlob.get(diffId) as { diff_id: string; blob_digest: string; media_type: string; tar_size: number } | undefined;
    return r ? { diffId: r.diff_id, blobDigest: r.blob_digest, mediaType: r.media_type, tarSize: r.tar_size } : null;
  }

  putLayerBlob(b: LayerBlob): void {
    this.#s.putLayerBlob.run(b.diffId, b.blobDigest, b.mediaType, b.tarSize);
  }

  deleteLayerBlob(diffId: string): void {
    this.#s.deleteLayerBlob.run(diffId);
  }

  /** Is `digest` still referenced as an image config or a layer blob? */
  blobInUse(digest: string): boolean {
    return this.#s.image.get(digest) !== undefined || this.#s.blobUsers.get(digest) !== undefined;
  }
}

function prepare(db: Database.Database) {
  return {
    allIds: db.prepare('SELECT id FROM images ORDER BY created DESC, id'),
    image: db.prepare('SELECT * FROM images WHERE id = ?'),
    byPrefix: db.prepare('SELECT id FROM images WHERE id LIKE ?'),
    layersOf: db.prepare('SELECT chain_id, diff_id, size FROM image_layers WHERE image_id = ? ORDER BY idx'),
    refsOf: db.prepare('SELECT name, kind FROM image_refs WHERE image_id = ? ORDER BY rowid'),
    refRowsOf: db.prepare('SELECT name, repo, kind FROM image_refs WHERE image_id = ? ORDER BY rowid'),
    refsInRepo: db.prepare('SELECT name, kind, image_id FROM image_refs WHERE repo = ? ORDER BY rowid'),
    ref: db.prepare('SELECT * FROM image_refs WHERE name = ?'),
    insertImage: db.prepare('INSERT INTO images (id, chain_id, parent, size, created, last_tag_time) VALUES (?, ?, ?, ?, ?, ?)'),
    insertLayer: db.prepare('INSERT INTO image_layers (image_id, idx, chain_id, diff_id, size) VALUES (?, ?, ?, ?, ?)'),
    deleteImage: db.prepare('DELETE FROM images WHERE id = ?'),
    children: db.prepare('SELECT id FROM images WHERE parent = ?'),
    upsertRef: db.prepare(`INSERT INTO image_refs (name, repo, kind, image_id) VALUES (?, ?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET image_id = excluded.image_id`),
    touchTag: db.prepare('UPDATE images SET last_tag_time = ? WHERE id = ?'),
    deleteRef: db.prepare('DELETE FROM image_refs WHERE name = ?'),
    chainUsers: db.prepare('SELECT COUNT(DISTINCT image_id) AS n FROM image_layers WHERE chain_id = ? AND image_id != ?'),
    diffIdUsers: db.prepare('SELECT COUNT(DISTINCT image_id) AS n FROM image_layers WHERE diff_id = ? AND image_id != ?'),
    chainSize: db.prepare('SELECT size FROM image_layers WHERE chain_id = ? LIMIT 1'),
    layerBlob: db.prepare('SELECT * FROM image_layer_blobs WHERE diff_id = ?'),
    putLayerBlob: db.prepare(`INSERT INTO image_layer_blobs (diff_id, blob_digest, media_type, tar_size) VALUES (?, ?, ?, ?)
      ON CONFLICT (diff_id) DO UPDATE SET blob_digest = excluded.blob_digest, media_type = excluded.media_type, tar_size = excluded.tar_size`),
    deleteLayerBlob: db.prepare('DELETE FROM image_layer_blobs WHERE diff_id = ?'),
    blobUsers: db.prepare('SELECT 1 FROM image_layer_blobs WHERE blob_digest = ? LIMIT 1'),
  };
}
