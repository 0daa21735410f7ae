/**
 * volumes: Docker's named and anonymous volumes with the `local` driver
 * (`<data-root>/volumes/<name>/_data`, or a mount made from the driver options type/o/device),
 * kept in the metadata database; and every container mount (-v, --mount, --volumes-from, image
 * VOLUME) as a ContainerExtension: planned and validated at create, mounted at start (copy-up of
 * the image's content into an empty volume), shown in inspect's Mounts, anonymous volumes removed
 * by `rm -v`. A volume a container refers to cannot be removed.
 *
 * Left to others: `--tmpfs` (engine/containers/runtime-settings.ts), the OCI mounts themselves
 * (runtime/spec.ts), the HTTP routes (api/routes/volumes.ts).
 */
import { join } from 'node:path';
import type { EventBus } from '../engine/extensions.js';
import { LocalDriver } from './local-driver.js';
import { VolumeStore, type MetadataDbLike } from './store.js';
import { Volumes } from './service.js';
import { VolumeExtension } from './extension.js';

export { Volumes, ANONYMOUS_LABEL } from './service.js';
export { VolumeExtension } from './extension.js';
export { parseBind, parseApiMount, planMounts, mountView, parseVolumesFrom, VOLUME_NAME_RULE, type MountPoint } from './mount-spec.js';
export { validateLocalOptions } from './local-driver.js';

export interface VolumeSubsystem {
  service: Volumes;
  extension: VolumeExtension;
}

/** Opens the volume tables and the local driver under `<dataRoot>/volumes`. */
export function createVolumes(o: {
  dataRoot: string; meta: MetadataDbLike; events?: EventBus;
  /** userns-remap: the host ids of the containers' root, owner of new volume data dirs. */
  rootOwner?: { uid: number; gid: number } | null;
}): VolumeSubsystem {
  const store = new VolumeStore(o.meta);
  const driver = new LocalDriver(join(o.dataRoot, 'volumes'), o.rootOwner ?? null);
  const service = new Volumes(store, driver, o.events);
  return { service, extension: new VolumeExtension(store, service, o.events) };
}
