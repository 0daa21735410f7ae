/**
 * storage: where image content and container filesystems live on disk.
 * - the metadata database (SQLite, WAL) that every subsystem keeps its tables in;
 * - the content store: sha256-addressed blobs (layers, configs, manifests), written atomically;
 * - layer tars: apply (gzip or plain, whiteouts, hostile-path checks), tar out, `docker diff`;
 * - the snapshotter: one overlay dir per layer chain, container rootfs overlay mounts.
 *
 * It does not know images, manifests or containers: `images/` decides which blobs and layers make
 * an image and when they can go; `engine/` decides where a container's directory is and when its
 * rootfs is mounted. Reference counting of blobs and layers is theirs.
 */
export { openMetadataDb, type MetadataDb, type OpenMetadataDbOptions } from './metadata-db.js';
export { ContentStore, type BlobInfo, type IngestOptions } from './content-store.js';
export { digestHex, isDigest, sha256Of, nextChainId, chainIdOf } from './digest.js';
export { applyLayerTar, type ApplyMode, type ApplyOptions, type ApplyResult } from './layer-apply.js';
export { tarDirectory, tarLayerDir, type TarDirectoryOptions, type LayerTarOptions } from './tar.js';
export { changesOf, hasChanges, tarUpperAsLayer, type Change } from './changes.js';
export { LayerStore, type LayerInfo, type CreateLayerOptions, type LayerStoreOptions } from './layer-store.js';
export { cleanEntryPath, resolveInRoot } from './paths.js';
export { detectCompression, gunzipStream, maybeGunzip, peek as peekStream, type Compression } from './decompress.js';
