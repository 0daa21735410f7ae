/**
 * Mounting and unmounting overlay filesystems, through the native addon's mount(2)/umount2(2).
 * When the addon is not built we spawn mount(8)/umount(8) instead: slower on the `run` path,
 * but it keeps a source checkout usable before `npm install` has compiled the addon.
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { Internal } from '../errdefs/index.js';
import { MNT_DETACH } from '../native/index.js';
import { errnoOf, tryNative } from './sys.js';

const run = promisify(execFile);

/**
 * The kernel copies mount data into one page (4096 bytes on x86-64 and arm64), so longer option
 * strings are refused. Docker's overlay2 hits this with deep images, hence short lower paths.
 */
export const MOUNT_DATA_MAX = 4095;

export interface OverlayMount {
  /** Lower dirs, top first; relative paths are taken from `cwd`. */
  lowerDirs: readonly string[];
  upperDir: string;
  workDir: string;
  target: string;
  /** Directory relative lower dirs are resolved from. */
  cwd?: string;
  /**
   * Overlay's `volatile` (Linux 5.10): no sync of the upper filesystem, on syncfs nor at unmount
   * (without it, every unmount writes back all the host filesystem's dirty data). For one-shot
   * mounts whose upper dir is thrown away or kept by other means (a build step's).
   */
  volatile?: boolean;
}

export function overlayData(m: Pick<OverlayMount, 'lowerDirs' | 'upperDir' | 'workDir' | 'volatile'>): string {
  return `lowerdir=${m.lowerDirs.join(':')},upperdir=${m.upperDir},workdir=${m.workDir}${m.volatile ? ',volatile' : ''}`;
}

export async function mountOverlay(m: OverlayMount): Promise<void> {
  const data = overlayData(m);
  const addon = tryNative();
  try {
    if (addon) {
      if (m.cwd === undefined) {
        addon.mount('overlay', m.target, 'overlay', 0, data);
      } else {
        // mount(2) resolves relative lowerdirs from the process's cwd. The call is synchronous on
        // this thread, so no other JavaScript runs while the cwd is changed.
        const previous = process.cwd();
        process.chdir(m.cwd);
        try {
          addon.mount('overlay', m.target, 'overlay', 0, data);
        } finally {
          process.chdir(previous);
        }
      }
    } else {
      await run('mount', ['-t', 'overlay', 'overlay', '-o', data, m.target], m.cwd ? { cwd: m.cwd } : {});
    }
  } catch (err) {
    // A kernel before 5.10 knows no `volatile`: the mount is made without it (and syncs at unmount).
    if (m.volatile && errnoOf(err) === 'EINVAL') return mountOverlay({ ...m, volatile: false });
    throw new Internal(`mount overlay on ${m.target}: ${(err as Error).message}`, { cause: err });
  }
}

/** Unmounts `target`; lazily detaches it when busy; does nothing when it is not mounted. */
export async function unmount(target: string): Promise<void> {
  const addon = tryNative();
  if (!addon) {
    if (!(await isMountPoint(target))) return;
    try {
      await run('umount', [target]);
    } catch {
      await run('umount', ['-l', target]);
    }
    return;
  }
  try {
    addon.umount2(target, 0);
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'EINVAL' || code === 'ENOENT') return; // not a mount point (any more)
    if (code !== 'EBUSY') throw new Internal(`unmount ${target}: ${(err as Error).message}`, { cause: err });
    addon.umount2(target, MNT_DETACH);
  }
}

/**
 * Whether something is mounted on `target`: its device differs from its parent's (every overlay
 * mount gets its own anonymous device), cheaper than reading /proc/self/mountinfo.
 */
export async function isMountPoint(target: string): Promise<boolean> {
  try {
    const [self, parent] = await Promise.all([stat(target), stat(target + '/..')]);
    return self.dev !== parent.dev || self.ino === parent.ino;
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return false;
    throw err;
  }
}
