/**
 * The host side of `--ipc shareable` (moby daemon/container_operations_unix.go setupIPCDirs): a
 * shareable container's /dev/shm is a tmpfs mounted on the host at <container dir>/mounts/shm and
 * bind-mounted into it, so containers started with `--ipc container:<it>` can bind the same one.
 * Unmounted when the container stops and before it is removed.
 */
import { chown, mkdir } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Internal } from '../../errdefs/index.js';
import { native, MNT_DETACH, MS_NODEV, MS_NOEXEC, MS_NOSUID } from '../../native/index.js';
import type { ContainerRecord } from './record.js';

/** Where a shareable container's /dev/shm lives on the host (docker's ShmResourcePath). */
export function shmDirOf(rec: ContainerRecord): string {
  return join(dirname(rec.HostnamePath), 'mounts', 'shm');
}

/** Whether a shareable container's /dev/shm is mounted on the host now. */
export function shmMounted(rec: ContainerRecord): boolean {
  return isMountPoint(shmDirOf(rec));
}

/** Mounts the tmpfs (mode 1777, `size` bytes) owned by `owner` (the container's root on the host). */
export async function mountShm(rec: ContainerRecord, size: number, owner: { uid: number; gid: number }): Promise<string> {
  const dir = shmDirOf(rec);
  // As docker's MkdirAllAndChown: under userns-remap runc binds it as the remapped root, who must reach it.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chown(dirname(dir), owner.uid, owner.gid);
  await chown(dir, owner.uid, owner.gid);
  if (!isMountPoint(dir)) {
    try {
      native().mount('shm', dir, 'tmpfs', MS_NOEXEC | MS_NOSUID | MS_NODEV, `mode=1777,size=${size}`);
    } catch (err) {
      throw new Internal(`container ${rec.Id}: mounting shm tmpfs on ${dir}: ${(err as Error).message}`, { cause: err });
    }
  }
  await chown(dir, owner.uid, owner.gid);
  return dir;
}

/** Unmounts a container's shm tmpfs; nothing when it is not mounted. A busy one is detached. */
export function unmountShm(rec: ContainerRecord): void {
  const dir = shmDirOf(rec);
  if (!isMountPoint(dir)) return;
  try {
    native().umount2(dir, 0);
  } catch {
    native().umount2(dir, MNT_DETACH);
  }
}

/** A mount point: its device differs from its parent's (every tmpfs mount has a device of its own). */
function isMountPoint(dir: string): boolean {
  try {
    return statSync(dir).dev !== statSync(dirname(dir)).dev;
  } catch {
    return false;
  }
}
