/**
 * The run options of issue #3 that need more than one container's record, as a
 * ContainerExtension: at create every option the runtime will see (resources, devices,
 * capabilities, seccomp, ulimits, namespace modes) is checked by building the settings and spec
 * once, so bad input creates nothing; at start `--ipc container:x` and `--pid container:x` become
 * the running container x's namespace paths.
 *
 * /dev/shm follows the IPC mode as in moby (daemon/container_operations_unix.go setupIPCDirs):
 * `private` keeps the tmpfs runc mounts in the container, `shareable` gets a tmpfs mounted on the
 * host (ipc-shm.ts) and bound in, `container:x` binds x's (x must be running and shareable, or
 * `host`), `host` binds the host's /dev/shm, `none` has no /dev/shm (runtime-settings.ts).
 */
import { existsSync } from 'node:fs';
import { NotFound, Conflict, InvalidArgument } from '../../errdefs/index.js';
import { buildOciSpec, DOCKER_MASKED_PATHS, DOCKER_READONLY_PATHS, type NamespaceSetting, type RuntimeSettings } from '../../runtime/index.js';
import { hostConfigDefaults } from './resources.js';
import type { ContainerControl, ContainerExtension } from '../extensions.js';
import type { ContainerRecord } from './record.js';
import { runtimeSettingsOf } from './runtime-settings.js';
import { mountShm, shmDirOf, shmMounted, unmountShm } from './ipc-shm.js';

export class RunOptionsExtension implements ContainerExtension {
  readonly name = 'run-options';
  #control: ContainerControl | null = null;
  readonly #cgroupVersion: 1 | 2;
  readonly #remappedRoot: { uid: number; gid: number } | null;

  /** `remappedRoot`: the host ids of a container's root under userns-remap (owner of a shareable /dev/shm). */
  constructor(opts: { cgroupVersion: 1 | 2; remappedRoot?: { uid: number; gid: number } | null }) {
    this.#cgroupVersion = opts.cgroupVersion;
    this.#remappedRoot = opts.remappedRoot ?? null;
  }

  bindControl(control: ContainerControl): void {
    this.#control = control;
  }

  #target(mode: unknown): ContainerRecord | null {
    if (typeof mode !== 'string' || !mode.startsWith('container:')) return null;
    const ref = mode.slice(10);
    const rec = this.#control?.find(ref);
    if (!rec) throw new NotFound(`No such container: ${ref}`);
    return rec;
  }

  create(rec: ContainerRecord): void {
    const hc = rec.HostConfig;
    hostConfigDefaults(hc, { cgroupVersion: this.#cgroupVersion, maskedPaths: DOCKER_MASKED_PATHS, readonlyPaths: DOCKER_READONLY_PATHS });
    // As docker's adaptSharedNamespaceContainer: `container:<name>` is kept as `container:<id>`,
    // so the link survives a rename of the other container.
    for (const key of ['IpcMode', 'PidMode'] as const) {
      const target = this.#target(hc[key]);
      if (target) hc[key] = `container:${target.Id}`;
    }
    // A dry run of what start does: every option the spec builder checks is checked now.
    const settings = runtimeSettingsOf({
      id: rec.Id, rootfs: '/nonexistent', config: rec.Config, hostConfig: hc, argv: [rec.Path, ...rec.Args],
      user: { uid: 0, gid: 0, additionalGids: [] },
      etcFiles: { hosts: rec.HostsPath, hostname: rec.HostnamePath, resolvConf: rec.ResolvConfPath },
      initPath: null, cgroupVersion: this.#cgroupVersion,
    });
    // The default profile is Docker's own and known good; converting it on every create costs time.
    if (settings.seccomp === 'default') settings.seccomp = 'unconfined';
    buildOciSpec(settings);
  }

  async prepare(rec: ContainerRecord, settings: RuntimeSettings): Promise<void> {
    let pid: NamespaceSetting | undefined;
    const target = this.#target(rec.HostConfig.PidMode);
    if (target) {
      if (!target.State.Running || target.State.Pid <= 0) throw new Conflict(`cannot join PID of a non running container: ${target.Name}`);
      pid = { path: `/proc/${target.State.Pid}/ns/pid` };
    }
    const ipc = await this.#ipcSetup(rec, settings);
    settings.namespaces = { ...settings.namespaces, ...(ipc ? { ipc } : {}), ...(pid ? { pid } : {}) };
  }

  // Only a shareable container mounts a /dev/shm on the host: no stat of a missing dir at every other exit.
  stopped(rec: ContainerRecord): void {
    if (rec.HostConfig.IpcMode === 'shareable') unmountShm(rec);
  }

  removed(rec: ContainerRecord): void {
    if (rec.HostConfig.IpcMode === 'shareable') unmountShm(rec);
  }

  /** The IPC namespace to join and the /dev/shm bind mount of the container's IPC mode. */
  async #ipcSetup(rec: ContainerRecord, settings: RuntimeSettings): Promise<NamespaceSetting | undefined> {
    const mode = String(rec.HostConfig.IpcMode ?? '');
    // A mount the user put on /dev/shm (--tmpfs, -v, --mount) wins, as in docker (HasMountFor).
    const userShm = (settings.mounts ?? []).some((m) => m.target.replace(/\/+$/, '') === '/dev/shm');
    const bind = (source: string) => {
      if (!userShm) settings.mounts = [...(settings.mounts ?? []), { type: 'bind', source, target: '/dev/shm' }];
    };
    if (mode === 'shareable') {
      if (userShm) return undefined;
      const owner = rec.HostConfig.UsernsMode !== 'host' && this.#remappedRoot ? this.#remappedRoot : { uid: 0, gid: 0 };
      bind(await mountShm(rec, Number(rec.HostConfig.ShmSize) || 64 * 1024 * 1024, owner));
      return undefined;
    }
    if (mode === 'host') {
      if (!existsSync('/dev/shm')) throw new InvalidArgument('/dev/shm is not mounted, but must be for --ipc=host');
      bind('/dev/shm');
      return undefined;
    }
    if (!mode.startsWith('container:')) return undefined;
    const ref = mode.slice(10);
    const donor = this.#control?.find(ref);
    const failed = 'failed to join IPC namespace';
    if (!donor) throw new InvalidArgument(`${failed}: No such container: ${ref}`);
    // A restart waiting out its backoff is "running" to docker's API: its message comes first.
    if (donor.State.Restarting) throw new Conflict(`${failed}: Container ${ref} is restarting, wait until the container is running`);
    if (!donor.State.Running || donor.State.Pid <= 0) throw new Conflict(`${failed}: container ${ref} is not running`);
    const shm = this.#shmOf(donor, new Set());
    if (!shm) throw new InvalidArgument(`${failed}: container ${ref}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
    bind(shm);
    return { path: `/proc/${donor.State.Pid}/ns/ipc` };
  }

  /** The host path of a container's /dev/shm that others may bind (docker's ShmPath), or null. */
  #shmOf(rec: ContainerRecord, seen: Set<string>): string | null {
    const mode = String(rec.HostConfig.IpcMode ?? '');
    if (mode === 'host') return '/dev/shm';
    if (mode === 'shareable') return shmMounted(rec) ? shmDirOf(rec) : null;
    if (!mode.startsWith('container:') || seen.has(rec.Id)) return null;
    seen.add(rec.Id);
    const donor = this.#control?.find(mode.slice(10));
    return donor ? this.#shmOf(donor, seen) : null;
  }
}
