/**
 * The fast path of COPY/ADD of a directory (issue #7, bench/build): into a destination directory
 * the step itself just made, nothing can be in the way and no symlink can redirect a path, so no
 * target needs resolving inside the root, removing first, or checking. Each entry is then a few
 * synchronous syscalls (copy_file_range/FICLONE, chmod, lchown) run in time slices, instead of
 * a dozen awaited thread-pool round trips. What it does per entry is what the executor's careful
 * path does: directories get the source's mode (or --chmod), files keep their mode (or --chmod),
 * symlinks are recreated, devices, fifos and sockets are skipped, owners come from `ownerOf`.
 *
 * A file whose owner and mode stay as they are is hard-linked rather than copied when the caller
 * says where it really lives (`linkFrom`): the build's own context dir, or the image layer dir
 * that holds it for COPY --from. Creating and writing a file costs ~0.2 ms here, a link a tenth of
 * that. Sharing the inode is safe because neither side is ever changed in place: layer dirs are
 * immutable (containers copy up), the context dir is the build's and goes with it, and a copy
 * that must change owner or mode gets a file of its own. Links need the destination on the same
 * filesystem, so the caller gives the overlay's upper dir, not the merged mount.
 */
import { chmodSync, constants, copyFileSync, lchownSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';

export interface FreshCopyOptions {
  /** --chmod, or undefined to keep the source's modes. */
  mode: number | undefined;
  /** The owner the copy of an entry gets. */
  ownerOf: (st: Stats) => [number, number];
  signal?: AbortSignal | undefined;
  /**
   * The real path of the source file at `from` (`rel` below the source dir) to hard-link, or null
   * to copy it. Asked only for files whose owner and mode the copy keeps.
   */
  linkFrom?: ((from: string, rel: string, st: Stats) => string | null) | undefined;
}

/** How long one synchronous slice may hold the event loop. */
const SLICE_MS = 8;

/**
 * Copies the entries `rels` of the directory `src` (relative, parents before their contents; null:
 * all of it) into `dest`, a directory made by this copy.
 */
export async function copyIntoFreshDir(src: string, dest: string, rels: readonly string[] | null, opts: FreshCopyOptions): Promise<void> {
  const made = new Set<string>([dest]);
  let linking = opts.linkFrom !== undefined;
  const tryLink = (real: string, to: string): boolean => {
    try {
      linkSync(real, to);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Another filesystem, too many links, or links refused (protected_hardlinks): copy from now on.
      if (code === 'EXDEV' || code === 'EMLINK' || code === 'EPERM') {
        linking = false;
        return false;
      }
      throw err;
    }
  };
  let t0 = performance.now();
  for (const rel of rels ?? walkSync(src)) {
    if (rel === '') continue;
    if (performance.now() - t0 > SLICE_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      opts.signal?.throwIfAborted();
      t0 = performance.now();
    }
    const from = join(src, rel);
    const to = join(dest, rel);
    const st = lstatSync(from);
    const parent = dirname(to);
    if (!made.has(parent)) {
      // A parent left out of `rels` (an ignored directory whose contents are not): made as mkdir -p would.
      mkdirSync(parent, { recursive: true, mode: 0o755 });
      made.add(parent);
    }
    if (st.isDirectory()) {
      mkdirSync(to);
      made.add(to);
      chmodSync(to, opts.mode ?? st.mode & 0o7777);
    } else if (st.isSymbolicLink()) {
      symlinkSync(readlinkSync(from), to);
    } else if (st.isFile()) {
      const [uid, gid] = opts.ownerOf(st);
      if (linking && opts.mode === undefined && uid === st.uid && gid === st.gid) {
        const real = opts.linkFrom?.(from, rel, st) ?? null;
        if (real !== null && tryLink(real, to)) continue;
      }
      // The new file gets the source's mode; a reflink where the filesystem can.
      copyFileSync(from, to, constants.COPYFILE_FICLONE);
      lchownSync(to, uid, gid);
      // After the chown, which clears set-id bits: they are kept, as docker keeps them.
      const mode = opts.mode ?? st.mode & 0o7777;
      if (opts.mode !== undefined || (mode & 0o6000) !== 0) chmodSync(to, mode);
      continue;
    } else continue; // devices, fifos and sockets are not copied
    const [uid, gid] = opts.ownerOf(st);
    lchownSync(to, uid, gid);
  }
}

/**
 * Where a file seen at `rel` in the merged view of the layer dirs `lowers` (top first) really is:
 * the topmost layer that has an entry there (a visible file cannot come from below it). Null
 * when that entry is not the plain file `seen` (lstat through the mount) shows, or when overlay's
 * metacopy is on (a layer's file may then hold only metadata, its bytes in a lower layer).
 */
export function layerFileOf(lowers: readonly string[], rel: string, seen: Stats): string | null {
  if (metacopyOn()) return null;
  for (const lower of lowers) {
    const path = join(lower, rel);
    try {
      const st = lstatSync(path);
      // The same file as the merged view shows (not so through idmapped lowers: userns-remap).
      const same = st.isFile() && st.uid === seen.uid && st.gid === seen.gid && st.mode === seen.mode && st.size === seen.size;
      return same ? path : null;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
    }
  }
  return null;
}

let metacopy: boolean | undefined;

function metacopyOn(): boolean {
  if (metacopy === undefined) {
    try {
      metacopy = readFileSync('/sys/module/overlay/parameters/metacopy', 'utf8').trim() === 'Y';
    } catch {
      metacopy = false;
    }
  }
  return metacopy;
}

/** Every entry below `dir`, relative, sorted, parents first. */
function walkSync(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const entries = readdirSync(rel === '' ? dir : join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      out.push(r);
      if (e.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}
