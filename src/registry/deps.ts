/**
 * What registry/ needs from the subsystems the composition root hands it: the content store
 * (storage/) and the image records (images/), as structural interfaces.
 */
import type { Readable } from 'node:stream';
import type { PulledImage, PushSource } from '../images/index.js';

export interface ContentLike {
  has(digest: string): Promise<boolean>;
  ingest(input: Readable, opts?: { expectedDigest?: string; expectedSize?: number; signal?: AbortSignal }): Promise<{ digest: string; size: number }>;
  createReadStream(digest: string, opts?: { highWaterMark?: number }): Promise<Readable>;
  /** Renames a file whose digest the caller computed into the store (same filesystem). */
  adopt(path: string, digest: string, size: number): Promise<{ digest: string; size: number }>;
}

export interface ImagesLike {
  /** NotFound when there is no such image. */
  resolve(ref: string): { id: string; repoTags: string[]; repoDigests: string[] };
  addPulled(img: PulledImage): Promise<{ Id: string }>;
  pushSource(id: string): Promise<PushSource>;
  addRepoDigest(id: string, name: string): void;
  /**
   * The uncompressed tar of a layer from whichever blob the layer has now (a concurrent push may
   * have swapped it for its gzip blob); null when it has no stored blob.
   */
  openLayerTar(diffId: string, opts?: { highWaterMark?: number }): Promise<Readable | null>;
  /** Records the gzip blob a push made of an uncompressed layer, for the next push to reuse. */
  useCompressedBlob(diffId: string, blob: { digest: string; mediaType: string }): Promise<void>;
  /** Tags of a repository ("localhost:5000/app" -> ["1.0", "latest"]). */
  tagsOf(repo: string): string[];
  discardBlobs(digests: readonly string[]): Promise<void>;
  /** Per layer of these diff ids: its chain is here with a stored blob (no download needed). */
  presentLayers(diffIds: readonly string[]): Promise<boolean[]>;
}

export interface RegistryServiceDeps {
  content: ContentLike;
  images: ImagesLike;
  /** Where partial downloads wait (under the data root: same filesystem, emptied at start). */
  tmpDir: string;
  /** daemon.json "insecure-registries". */
  insecureRegistries?: readonly string[];
  /** daemon.json "registry-mirrors": tried in order for docker.io, before Docker Hub itself. */
  mirrors?: readonly string[];
  /** Parallel layer downloads (dockerd's max-concurrent-downloads, default 3). */
  maxConcurrentDownloads?: number;
  /** Parallel layer uploads (dockerd's max-concurrent-uploads, default 5). */
  maxConcurrentUploads?: number;
  /** How often an interrupted blob download is resumed before the pull fails (default 5). */
  downloadRetries?: number;
  logger?: { debug(msg: string): void; warn(msg: string): void };
}
