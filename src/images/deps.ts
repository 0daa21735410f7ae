/**
 * What images/ needs from storage/, as structural interfaces: the storage subsystem's
 * MetadataDb, ContentStore and LayerStore satisfy them, and the composition root passes those in.
 * Keeping the needed surface here (instead of importing the classes) documents exactly which calls
 * images/ makes.
 */
import type { Readable } from 'node:stream';
import type Database from 'better-sqlite3';

export interface MetadataDbLike {
  readonly db: Database.Database;
  migrate(component: string, statements: readonly string[]): number;
  transaction<T>(fn: () => T): T;
}

export interface ContentStoreLike {
  ingest(input: Readable | AsyncIterable<Uint8Array>, opts?: { expectedDigest?: string; expectedSize?: number; signal?: AbortSignal }): Promise<{ digest: string; size: number }>;
  put(data: Buffer | string, opts?: { expectedDigest?: string }): Promise<{ digest: string; size: number }>;
  has(digest: string): Promise<boolean>;
  stat(digest: string): Promise<{ digest: string; size: number }>;
  read(digest: string): Promise<Buffer>;
  createReadStream(digest: string, opts?: { highWaterMark?: number }): Promise<Readable>;
  delete(digest: string): Promise<void>;
  /** Every blob in the store (image prune sweeps the layer blobs nothing names). */
  list(): Promise<Array<{ digest: string; size: number }>>;
  /** Removes interrupted ingests and the blobs `inUse` disowns (start-up only); the blobs removed. */
  sweep(inUse: (digest: string) => boolean): Promise<Array<{ digest: string; size: number }>>;
}

export interface LayerStoreLike {
  createLayer(parentChainId: string | null, tar: Readable, opts?: { expectedDiffId?: string; signal?: AbortSignal; parentReady?: Promise<unknown> }): Promise<{ chainId: string; diffId: string; size: number }>;
  /** Takes a finished overlay upper dir as a layer, its tar stored through `storeTar` (null: cannot, use createLayer). */
  adoptLayer?(parentChainId: string | null, dir: string, opts: { lowerDirs: readonly string[]; storeTar: (tar: Readable) => Promise<string>; signal?: AbortSignal }): Promise<{ chainId: string; diffId: string; size: number } | null>;
  has(chainId: string): Promise<boolean> | boolean;
  remove(chainId: string): Promise<unknown> | unknown;
  /** Diff directories of the chain, top layer first (for GraphDriver.Data). */
  lowerDirs(chainId: string): Promise<string[]> | string[];
  /** The layer's changes as a tar, regenerated from the snapshot. */
  tarLayer(chainId: string): Promise<Readable> | Readable;
  /** Removes layer directories without a record (start-up only); how many. */
  sweep(): Promise<number>;
}

export interface ContainerUse {
  id: string;
  running: boolean;
}

export interface ImageServiceDeps {
  db: MetadataDbLike;
  content: ContentStoreLike;
  layers: LayerStoreLike;
  /** Containers (running or not) whose image is `imageId`. */
  containersUsingImage: (imageId: string) => ContainerUse[];
  /**
   * Directory for load's unpacked archives and save's spooled layers; put it under the data root
   * so renames stay on one filesystem and a crash leaves the litter where hakod cleans up.
   * Default: os.tmpdir().
   */
  tmpDir?: string;
  /** Clock for created/LastTagTime stamps (tests). Default: () => new Date(). */
  now?: () => Date;
  /**
   * Docker's image events, as moby's LogImageEvent(imageID, refName, action): tag (id, new
   * name), untag and delete (id, id), import, load and save (id, id). Called after the change.
   */
  onEvent?: (action: ImageEventAction, imageId: string, name: string) => void;
}

export type ImageEventAction = 'tag' | 'untag' | 'delete' | 'import' | 'load' | 'save';
