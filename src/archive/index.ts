/**
 * archive: what the client and the daemon share about build contexts and tars, as a leaf that
 * depends on nothing but `node:` built-ins and `errdefs` (itself a leaf), so that `cli/` can use
 * it without reaching into a daemon subsystem:
 * - the fast tar writer (`tarDirectory`, and `tarLayerDir` for overlay layer dirs in image-layer
 *   form with OCI whiteouts): the CLI packs build contexts with it, storage tars layers, `docker
 *   cp` and export trees with it. xattrs come through an injected `XattrReader` (storage binds the
 *   native addon); without one none are written;
 * - the whiteout spellings of layer tars and overlay dirs (OCI image-spec layer.md#whiteouts);
 * - the owner of a tar entry as readers must take it (`tarOwner`: PAX uid/gid records first);
 * - the `.dockerignore` matcher (Docker's patternmatcher): the CLI filters the context it sends,
 *   the builder filters the context it receives (a docker CLI may send ignored files);
 * - the wire shape of `hako build`'s structured step events.
 *
 * Left to others: reading tars (storage's layer apply, build's context unpack), the native addon
 * (native/, bound by storage), what the builder sends when (build/).
 */
export { tarDirectory, tarLayerDir, type TarDirectoryOptions, type LayerTarOptions, type TarStats, type XattrReader } from './tar-writer.js';
export { isOverlayWhiteout, OVERLAY_OPAQUE_XATTR, OVERLAY_XATTR_PREFIX, WHITEOUT_META_PREFIX, WHITEOUT_OPAQUE, WHITEOUT_PREFIX } from './whiteouts.js';
export { tarOwner, type TarOwnerHeader } from './tar-owner.js';
export { IgnoreMatcher, patternToRegExp } from './dockerignore.js';
export { STEP_EVENT_ID, type StepEvent } from './step-events.js';
export { packBuildContext } from './build-context.js';
