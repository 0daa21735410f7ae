/**
 * Volumes and mounts as a ContainerExtension: at create the container's mount points are planned
 * (-v, --mount, --volumes-from, the image's VOLUME) and the named and anonymous volumes they need
 * are made; at start each is mounted (copy-up of the image's content into an empty volume the
 * first time) and handed to the runtime; `rm -v` (and `--rm`) removes the anonymous ones.
 */
import { existsSync } from 'node:fs';
import { chown, chmod, mkdir, readdir, stat } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ContainerControl, ContainerExtension, EventBus } from '../engine/extensions.js';
import type { ContainerRecord } from '../engine/containers/record.js';
import type { MountSetting, RuntimeSettings } from '../runtime/index.js';
import { resolveInRoot } from '../storage/index.js';
import { NotFound } from '../errdefs/index.js';
import { mountView, parseVolumesFrom, planMounts, type MountPoint } from './mount-spec.js';
import type { VolumeStore } from './store.js';
import type { Volumes } from './service.js';

const run = promisify(execFile);
type Json = Record<string, unknown>;

export class VolumeExtension implements ContainerExtension {
  readonly name = 'volumes';
  readonly #store: VolumeStore;
  readonly #volumes: Volumes;
  readonly #events: EventBus | undefined;
  #control: ContainerControl | null = null;

  constructor(store: VolumeStore, volumes: Volumes, events?: EventBus) {
    this.#store = store;
    this.#volumes = volumes;
    this.#events = events;
  }

  bindControl(control: ContainerControl): void {
    this.#control = control;
  }

  /** A --volumes-from container's full id. */
  #resolve(ref: string): string {
    const rec = this.#control?.find(ref);
    if (!rec) throw new NotFound(`No such container: ${ref}`);
    return rec.Id;
  }

  /** The container's mount points (as planned at create). */
  mountsOf(containerId: string): MountPoint[] {
    return this.#store.mounts.get(containerId) ?? [];
  }

  async create(rec: ContainerRecord): Promise<void> {
    const hc = rec.HostConfig;
    const from: Array<{ mode: '' | 'ro' | 'rw'; mounts: MountPoint[] }> = [];
    for (const spec of (hc.VolumesFrom as string[] | null) ?? []) {
      const { container, mode } = parseVolumesFrom(spec);
      const id = this.#resolve(container);
      from.push({ mode, mounts: this.mountsOf(id) });
    }
    const mounts = planMounts({
      binds: (hc.Binds as string[] | null) ?? [],
      mounts: (hc.Mounts as Json[] | null) ?? [],
      volumes: Object.keys((rec.Config.Volumes as Json | null) ?? {}),
      from,
      tmpfs: Object.keys((hc.Tmpfs as Json | null) ?? {}),
      exists: (p) => existsSync(p),
    });
    // Validate every volume's options before creating any, so bad input creates nothing.
    const made: string[] = [];
    try {
      for (const mp of mounts) {
        if (mp.Type !== 'volume') continue;
        const existed = mp.Name !== '' && this.#volumes.find(mp.Name) !== undefined;
        const v = await this.#volumes.createVolume({
          name: mp.Name || undefined,
          labels: mp.VolumeOptions?.labels ?? {},
          options: mp.VolumeOptions && Object.keys(mp.VolumeOptions.driverOpts).length ? mp.VolumeOptions.driverOpts : null,
          anonymous: mp.Anonymous,
        });
        if (!existed) made.push(v.Name);
        mp.Name = v.Name;
        mp.Source = this.#volumes.driver.dataDir(v.Name);
        delete mp.VolumeOptions;
      }
      this.#store.saveMounts(rec.Id, mounts);
    } catch (err) {
      for (const name of made) await this.#volumes.remove(name).catch(() => undefined);
      throw err;
    }
  }

  async prepare(rec: ContainerRecord, settings: RuntimeSettings): Promise<void> {
    const mounts = this.mountsOf(rec.Id);
    const out: MountSetting[] = [];
    let changed = false;
    for (const mp of mounts) {
      if (mp.Type === 'bind') {
        if (mp.CreateSource && !existsSync(mp.Source)) await mkdir(mp.Source, { recursive: true, mode: 0o755 });
        out.push({ type: 'bind', source: mp.Source, target: mp.Destination, readonly: !mp.RW, options: [mp.Propagation] });
      } else if (mp.Type === 'tmpfs') {
        out.push({ type: 'tmpfs', target: mp.Destination, readonly: !mp.RW, options: mp.TmpfsOptions });
      } else {
        const v = this.#volumes.record(mp.Name);
        const dir = await this.#volumes.driver.mount(v.Name, v.Options, rec.Id);
        if (mp.CopyData) {
          await copyUp(settings.rootfs, mp.Destination, dir);
          mp.CopyData = false;
          changed = true;
        }
        mp.Source = dir;
        out.push({ type: 'bind', source: dir, target: mp.Destination, readonly: !mp.RW, options: [] });
        this.#events?.publish('volume', 'mount', v.Name, {
          container: rec.Id, destination: mp.Destination, driver: 'local', propagation: mp.Propagation, 'read/write': String(mp.RW),
        });
      }
    }
    if (changed) this.#store.saveMounts(rec.Id, mounts);
    settings.mounts = [...(settings.mounts ?? []), ...out];
  }

  /** hakod restarted: a running container's volumes with mount options count it as a user again. */
  restored(rec: ContainerRecord): void {
    if (!rec.State.Running) return;
    for (const mp of this.mountsOf(rec.Id)) {
      if (mp.Type !== 'volume') continue;
      const v = this.#volumes.find(mp.Name);
      if (v) this.#volumes.driver.adopt(v.Name, v.Options, rec.Id);
    }
  }

  async stopped(rec: ContainerRecord): Promise<void> {
    for (const mp of this.mountsOf(rec.Id)) {
      if (mp.Type !== 'volume') continue;
      const v = this.#volumes.find(mp.Name);
      if (!v) continue;
      await this.#volumes.driver.unmount(v.Name, v.Options, rec.Id);
      this.#events?.publish('volume', 'unmount', v.Name, { container: rec.Id, driver: 'local' });
    }
  }

  async removed(rec: ContainerRecord, opts: { volumes: boolean }): Promise<void> {
    const mounts = this.mountsOf(rec.Id);
    this.#store.deleteMounts(rec.Id);
    // `--rm` removes the container's anonymous volumes too (docker's AutoRemove does).
    if (!opts.volumes && !rec.HostConfig.AutoRemove) return;
    for (const mp of mounts) {
      if (mp.Type === 'volume' && mp.Anonymous && this.#store.usersOf(mp.Name).length === 0) {
        await this.#volumes.remove(mp.Name).catch(() => undefined);
      }
    }
  }

  /**
   * Bind mounts and volumes as host paths, for `cp`. A volume with mount options (tmpfs, nfs …)
   * only while its container runs: otherwise its data dir is not mounted and holds nothing.
   */
  mountPoints(rec: ContainerRecord): Array<{ destination: string; source: string }> {
    const out: Array<{ destination: string; source: string }> = [];
    for (const mp of this.mountsOf(rec.Id)) {
      if (mp.Type === 'bind') out.push({ destination: mp.Destination, source: mp.Source });
      if (mp.Type !== 'volume') continue;
      const v = this.#volumes.find(mp.Name);
      if (!v || (v.Options?.type && !rec.State.Running)) continue;
      out.push({ destination: mp.Destination, source: this.#volumes.driver.dataDir(v.Name) });
    }
    return out;
  }

  inspect(rec: ContainerRecord, view: Json): void {
    view.Mounts = this.mountsOf(rec.Id).map(mountView);
  }

  summary(rec: ContainerRecord, row: Json): void {
    row.Mounts = this.mountsOf(rec.Id).map(mountView);
  }
}

/**
 * Docker's copy-up: when a volume is empty, the image's files at the mount point are copied into
 * it, and the volume's root takes the owner and mode of that directory
 * (moby container/container_unix.go copyExistingContents + copyOwnership).
 */
async function copyUp(rootfs: string, destination: string, volumeDir: string): Promise<void> {
  if ((await readdir(volumeDir)).length > 0) return;
  const src = await resolveInRoot(rootfs, destination);
  const st = await stat(src).catch(() => null);
  if (!st || !st.isDirectory()) return;
  if ((await readdir(src)).length > 0) await run('cp', ['-a', '--', `${src}/.`, volumeDir]);
  await chown(volumeDir, st.uid, st.gid);
  await chmod(volumeDir, st.mode & 0o7777);
}
