/**
 * The two spellings of a deletion (OCI image-spec layer.md#whiteouts):
 * - in a layer tar: an empty file `.wh.<name>`, and `.wh..wh..opq` for "hide everything below";
 * - in an overlay layer dir: a char device 0/0 `<name>`, and the xattr trusted.overlay.opaque=y
 *   on a directory (kernel Documentation/filesystems/overlayfs.rst, "whiteouts and opaque
 *   directories").
 */
import type { Stats } from 'node:fs';

export const WHITEOUT_PREFIX = '.wh.';
/** Names with this prefix are metadata of the aufs era (`.wh..wh.plnk`), never real entries. */
export const WHITEOUT_META_PREFIX = '.wh..wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';
/** overlay's private xattrs: never taken from a tar, never written to one. */
export const OVERLAY_XATTR_PREFIX = 'trusted.overlay.';

/** True for overlay's whiteout: a character device with device number 0/0. */
export function isOverlayWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}
