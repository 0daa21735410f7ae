/**
 * Path safety for tar entries and layer trees. Two rules, as Docker applies them:
 * - an entry name is cleaned lexically and taken relative to the target; one that climbs out
 *   (`../x`, `a/../../x`, `/../x`) is refused;
 * - parent components are resolved inside the target root, following symlinks but clamping them
 *   to the root (the idea of Go's filepath-securejoin), so a symlink `a -> /etc` makes `a/passwd`
 *   land on <root>/etc/passwd, never on the host's.
 */
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgument } from '../errdefs/index.js';

/** Linux's own limit on symlinks followed while resolving one path (MAXSYMLINKS is 40). */
const MAX_SYMLINKS = 40;

/**
 * Cleans a tar entry name into a root-relative path without `.`, `..`, empty or leading `/`
 * components ('' is the root itself). Absolute names are taken relative to the root, as Docker
 * does. Throws InvalidArgument when the name climbs out of the root.
 */
export function cleanEntryPath(name: string): string {
  if (name.includes('\0')) throw new InvalidArgument(`tar entry "${name.replace(/\0/g, '\\0')}": contains a NUL byte`);
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw new InvalidArgument(`tar entry "${name}": path climbs out of the target directory; refusing a hostile or broken archive`);
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out.join('/');
}

/** Parent of a cleaned relative path ('' for top-level names and the root). */
export function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

/** Last component of a cleaned relative path. */
export function baseOf(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

/**
 * Resolves `rel` (every component, the last included) to a host path inside `root`: symlinks are
 * followed with absolute targets taken relative to `root`, and `..` never rises above `root`.
 * Components that do not exist are taken literally. The result is always `root` or below it.
 */
export async function resolveInRoot(root: string, rel: string): Promise<string> {
  const resolved: string[] = [];
  const pending = rel.split('/');
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    let isLink = false;
    try {
      isLink = (await lstat(candidate)).isSymbolicLink();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) {
      throw new InvalidArgument(`path "${rel}": too many levels of symbolic links inside ${root}`);
    }
    const target = await readlink(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...target.split('/'));
  }
  return join(root, ...resolved);
}
