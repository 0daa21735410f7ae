/**
 * storage's binding of archive/'s tar writer to the native addon, which reads xattrs (PAX
 * `SCHILY.xattr.*` records; an overlay dir's opaque marker). A tree is tarred with its xattrs
 * when the addon is built; a layer dir cannot be tarred without it.
 */
import type { Readable } from 'node:stream';
import * as archive from '../archive/index.js';
import type { NativeAddon } from '../native/index.js';
import { requireNative, tryNative } from './sys.js';

export interface TarDirectoryOptions extends Omit<archive.TarDirectoryOptions, 'xattrs'> {
  /** Write xattrs as PAX records (when the native addon is built). Default true. */
  xattrs?: boolean;
}

export type LayerTarOptions = Omit<archive.LayerTarOptions, 'xattrs'>;

/** A tar of `dir` (a directory, or with `includeRoot` any file) as a Node Readable. */
export function tarDirectory(dir: string, opts: TarDirectoryOptions = {}): Readable {
  const { xattrs = true, ...rest } = opts;
  const addon = xattrs ? tryNative() : null;
  return archive.tarDirectory(dir, { ...rest, xattrs: addon ? readerOf(addon) : undefined });
}

/** A tar of an overlay layer dir in image-layer form (whiteouts as `.wh.` entries). */
export function tarLayerDir(dir: string, opts: LayerTarOptions = {}): Readable {
  // Asked at the first entry, so a missing addon errors the stream as before.
  const addon = (): NativeAddon => requireNative('tarring a layer (opaque directories are xattrs)');
  return archive.tarLayerDir(dir, { ...opts, xattrs: { list: (path) => addon().llistxattr(path), get: (path, name) => addon().lgetxattr(path, name) } });
}

function readerOf(addon: NativeAddon): archive.XattrReader {
  return { list: (path) => addon.llistxattr(path), get: (path, name) => addon.lgetxattr(path, name) };
}
