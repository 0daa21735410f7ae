import { lstat, readlink } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { NotFound } from '../../errdefs/index.js';
import { resolveInRoot as resolveAll } from '../../storage/index.js';
import type { ArchiveStat } from '../contract.js';

/** A host file or directory that appears at `destination` inside the container. */
export interface MountPoint {
  destination: string;
  source: string;
}

/**
 * The view `docker cp` has of a container: its rootfs with the mounts on top. A path on or under
 * a mount point resolves inside the mount's source; anything else inside the rootfs.
 */
export function viewOf(root: string, mounts: MountPoint[], path: string): { root: string; path: string } {
  const clean = posix.normalize(`/${path}`);
  let best: MountPoint | undefined;
  for (const m of mounts) {
    const d = posix.normalize(m.destination);
    if ((clean === d || clean.startsWith(`${d}/`)) && (!best || d.length > best.destination.length)) best = { ...m, destination: d };
  }
  if (!best) return { root, path };
  const rest = clean.slice(best.destination.length) || '/';
  return { root: best.source, path: path.endsWith('/') && rest !== '/' ? `${rest}/` : rest };
}

/**
 * Resolves a container path to a host path under `root`, symlinks clamped to the root. The last
 * component is followed only when asked (docker cp copies a symlink itself, `-L` follows it).
 */
export async function resolveInRoot(root: string, path: string, opts: { followFinal: boolean }): Promise<string> {
  const clean = path.replace(/\/+\.?$/, '') || '/';
  if (opts.followFinal || clean === '/') return resolveAll(root, clean);
  const parent = await resolveAll(root, dirname(clean));
  return join(parent, basename(clean));
}

// Go's os.FileMode bits, which docker puts in X-Docker-Container-Path-Stat.
const MODE_DIR = 0x80000000;
const MODE_SYMLINK = 0x08000000;

export async function statInRoot(root: string, path: string, shownAs = path): Promise<ArchiveStat> {
  const host = await resolveInRoot(root, path, { followFinal: path.endsWith('/') });
  let st;
  try {
    st = await lstat(host);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
      throw new NotFound(`Could not find the file ${shownAs} in container`);
    }
    throw err;
  }
  let mode = st.mode & 0o777;
  let linkTarget = '';
  if (st.isDirectory()) mode |= MODE_DIR;
  if (st.isSymbolicLink()) {
    mode |= MODE_SYMLINK;
    linkTarget = await readlink(host);
  }
  return {
    name: basename(shownAs.replace(/\/+\.?$/, '')) || '/',
    size: st.size,
    mode: mode >>> 0,
    mtime: st.mtime.toISOString(),
    linkTarget,
  };
}
