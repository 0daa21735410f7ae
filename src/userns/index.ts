/**
 * userns: dockerd's `userns-remap` — every container's root is an unprivileged host uid/gid taken
 * from /etc/subuid and /etc/subgid ("default": the `hako-remap` user, added when missing).
 * - remap.ts: resolving the setting (and adding the user) and opening a user namespace with those
 *   maps at daemon start;
 * - extension.ts: `--userns` checks and the OCI uid/gid maps of each container;
 * - subids.ts: the pure subuid/subgid parsing and id-map math.
 *
 * Left to others: image layers shown through idmapped mounts of that namespace and the container's
 * upper dir (storage/LayerStore `idmap`), volume directories owned by the remapped root
 * (volumes/), the separate <data-root>/<uid>.<gid> (daemon/wire.ts).
 */
export { resolveRemap, openUserNamespace, DEFAULT_REMAP_USER, type RemapIdentity } from './remap.js';
export { UsernsExtension } from './extension.js';
export { RemappedNetHost } from './netns.js';
export { parseSubIds, parseRemapSpec, idMapOf, freeRange, rangesOf, toHost, toContainer, idMappers, OVERFLOW_ID, type SubIdRange } from './subids.js';
