/**
 * The run options of issue #3 that need more than one container's record, as a
 * ContainerExtension: at create every option the runtime will see (resources, devices,
 * capabilities, seccomp, ulimits, namespace modes) is checked by building the settings and spec
 * once, so bad input creates nothing; at start `--ipc container:x` and `--pid container:x` become
 * the running container x's namespace paths.
 */
import { NotFound, Conflict } from '../../errdefs/index.js';
import { buildOciSpec, DOCKER_MASKED_PATHS, DOCKER_READONLY_PATHS, type NamespaceSetting, type RuntimeSettings } from '../../runtime/index.js';
import { hostConfigDefaults } from './resources.js';
import type { ContainerControl, ContainerExtension } from '../extensions.js';
import type { ContainerRecord } from './record.js';
import { runtimeSettingsOf } from './runtime-settings.js';

export class RunOptionsExtension implements ContainerExtension {
  readonly name = 'run-options';
  #control: ContainerControl | null = null;
  readonly #cgroupVersion: 1 | 2;

  constructor(opts: { cgroupVersion: 1 | 2 }) {
    this.#cgroupVersion = opts.cgroupVersion;
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
    this.#target(hc.IpcMode);
    this.#target(hc.PidMode);
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

  prepare(rec: ContainerRecord, settings: RuntimeSettings): void {
    const join = (key: 'IpcMode' | 'PidMode', what: 'IPC' | 'PID', ns: 'ipc' | 'pid'): NamespaceSetting | undefined => {
      const target = this.#target(rec.HostConfig[key]);
      if (!target) return undefined;
      if (!target.State.Running || target.State.Pid <= 0) {
        throw new Conflict(`cannot join ${what} of a non running container: ${target.Name}`);
      }
      return { path: `/proc/${target.State.Pid}/ns/${ns}` };
    };
    const ipc = join('IpcMode', 'IPC', 'ipc');
    const pid = join('PidMode', 'PID', 'pid');
    settings.namespaces = { ...settings.namespaces, ...(ipc ? { ipc } : {}), ...(pid ? { pid } : {}) };
  }
}
