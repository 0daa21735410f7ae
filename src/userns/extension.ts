/**
 * userns-remap as a ContainerExtension: `--userns` is checked at create (only "" or "host"),
 * the options a user namespace rules out are refused as dockerd refuses them, and at start the
 * container's OCI spec gets the daemon's uid/gid maps and a user namespace — except for a
 * `--userns=host` container, which runs as on a daemon without the remap.
 */
import { chown } from 'node:fs/promises';
import type { ContainerExtension } from '../engine/extensions.js';
import type { ContainerRecord } from '../engine/containers/record.js';
import type { RuntimeSettings } from '../runtime/index.js';
import { InvalidArgument } from '../errdefs/index.js';
import type { RemapIdentity } from './remap.js';

export class UsernsExtension implements ContainerExtension {
  readonly name = 'userns';
  readonly #identity: RemapIdentity | null;
  readonly #usernsPath: string | undefined;

  /**
   * `identity` null: the daemon runs without userns-remap. `usernsPath`: the daemon's remap user
   * namespace, which containers join (it owns their network namespaces, see netns.ts).
   */
  constructor(identity: RemapIdentity | null, usernsPath?: string) {
    this.#identity = identity;
    this.#usernsPath = usernsPath;
  }

  create(rec: ContainerRecord): void {
    const hc = rec.HostConfig;
    const mode = String(hc.UsernsMode ?? '');
    if (mode !== '' && mode !== 'host') throw new InvalidArgument(`invalid --userns "${mode}": use "host", or leave it out for the daemon's default`);
    // `--userns=host` (docker's UsernsMode "host"): this container runs without the remap, with
    // real ids, in the host's user namespace; its layers are mounted without the idmap
    // (storage/LayerStore `idmap: false`), and what a user namespace rules out is allowed again.
    if (!this.#identity || mode === 'host') return;
    if (hc.Privileged === true) {
      throw new InvalidArgument('privileged mode is incompatible with user namespaces (hakod runs with userns-remap); drop --privileged');
    }
    if (hc.NetworkMode === 'host') throw new InvalidArgument(`cannot share the host's network namespace when user namespaces are enabled (hakod runs with userns-remap)`);
    if (hc.PidMode === 'host') throw new InvalidArgument(`cannot share the host PID namespace when user namespaces are enabled (hakod runs with userns-remap)`);
  }

  async prepare(rec: ContainerRecord, settings: RuntimeSettings): Promise<void> {
    if (!this.#identity || rec.HostConfig.UsernsMode === 'host') return;
    // The engine's /etc/hosts, /etc/hostname and /etc/resolv.conf are the container root's to edit, as in docker.
    for (const file of [rec.HostsPath, rec.HostnamePath, rec.ResolvConfPath]) {
      if (file) await chown(file, this.#identity.uid, this.#identity.gid).catch(() => undefined);
    }
    settings.userns = {
      uidMappings: this.#identity.uidMappings,
      gidMappings: this.#identity.gidMappings,
      ...(this.#usernsPath ? { path: this.#usernsPath } : {}),
    };
  }
}
