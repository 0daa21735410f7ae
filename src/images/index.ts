/**
 * images: what an image is and how it comes and goes on this host. Image references (the
 * distribution grammar and Docker's normalisation), image records and names in the metadata db,
 * image configs and `--change` lines, and the ImageService of engine/contract.ts: list, inspect,
 * history, tag, rmi, prune, import of a rootfs tarball, commit, and docker save/load archives
 * (classic docker-archive, Docker 25+ combined form, OCI image layout).
 *
 * Left to others: blobs, layer trees and the metadata database themselves (storage/), which
 * containers use an image (engine/, through `containersUsingImage`), pulling and pushing
 * (registry/), building (build/), and HTTP framing of load/save streams (api/).
 */
export {
  parseReference, familiarName, familiarString, familiarTagged, fullName, fullString, withDefaultTag,
  isFullImageId, isImageIdPrefix, isValidTag, shortId, DEFAULT_DOMAIN, DEFAULT_TAG, type Reference,
} from './reference.js';
export { applyChanges, type ContainerConfig, type Healthcheck } from './changes.js';
export { type ImageConfig, type HistoryEntry, type Descriptor, MEDIA_TYPE } from './config.js';
export { type ImageRecord, type LayerRow } from './records.js';
export { type ImageServiceDeps, type ImageEventAction, type ContainerUse, type MetadataDbLike, type ContentStoreLike, type LayerStoreLike } from './deps.js';
export { type PulledImage, type PulledLayer, type PushSource, type PushLayer } from './registry-io.js';
export { createImageService, type HakoImageService, type ImageServiceExtras, type CommitOptions } from './service.js';
