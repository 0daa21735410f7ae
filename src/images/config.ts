/**
 * The image config document (OCI image-spec config.md; Docker's image spec v1.2 adds a few
 * fields) and the small descriptors of the OCI image layout. The image id is the sha256 of the
 * config's exact bytes, so a config is serialised once and stored as a blob; never re-serialise
 * a loaded one.
 */
import { isDigest } from '../storage/index.js';
import type { ContainerConfig } from './changes.js';

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  config?: ContainerConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
  // Docker-specific, kept when present.
  comment?: string;
  container?: string;
  docker_version?: string;
  [key: string]: unknown;
}

export const MEDIA_TYPE = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture?: string; os?: string; variant?: string };
}

/** Validates the parts of a config hako relies on; returns a one-line reason or null. */
export function configProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const c = value as Partial<ImageConfig>;
  if (typeof c.rootfs !== 'object' || c.rootfs === null) return 'has no rootfs';
  if (!Array.isArray(c.rootfs.diff_ids) || !c.rootfs.diff_ids.every((d) => typeof d === 'string' && isDigest(d))) {
    return 'rootfs.diff_ids is not a list of sha256 digests';
  }
  if (c.config !== undefined && c.config !== null && (typeof c.config !== 'object' || Array.isArray(c.config))) return '"config" is not an object';
  if (c.history !== undefined && !Array.isArray(c.history)) return '"history" is not a list';
  return null;
}

/** A compressed layer media type -> how to undo it, or null for a plain tar. */
export function layerCompression(mediaType: string): 'gzip' | 'zstd' | null {
  if (mediaType.endsWith('+gzip') || mediaType.endsWith('.gzip')) return 'gzip';
  if (mediaType.endsWith('+zstd') || mediaType.endsWith('.zstd')) return 'zstd';
  return null;
}

/** Path of a blob inside an OCI image layout (image-layout.md "blobs"). */
export function blobPath(digest: string): string {
  return `blobs/${digest.replace(':', '/')}`;
}
