/**
 * A build context directory as the tar POST /build takes, `.dockerignore` applied as docker's CLI
 * does (`<Dockerfile>.dockerignore` first, then `.dockerignore`; the Dockerfile and the ignore
 * files always go). Shared by `hako build` and `hako compose build`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { IgnoreMatcher } from './dockerignore.js';
import { tarDirectory } from './tar-writer.js';

/** `extra`: a file added at the context's root (a Dockerfile from outside the context or from stdin). */
export async function packBuildContext(dir: string, dockerfile: string, extra: { name: string; content: Buffer } | null): Promise<Readable> {
  let lines: string[] = [];
  for (const name of [`${dockerfile}.dockerignore`, '.dockerignore']) {
    try {
      lines = (await readFile(join(dir, name), 'utf8')).split(/\r?\n/);
      break;
    } catch {
      // none here
    }
  }
  const ignore = new IgnoreMatcher(lines);
  const always = new Set([dockerfile, '.dockerignore', `${dockerfile}.dockerignore`]);
  // The tar writer walks synchronously in time slices with headers straight into big chunks:
  // a context of small files packs several times faster than with a stream entry per file.
  return tarDirectory(dir, {
    select: (r, isDir) => {
      if (always.has(r) || !ignore.ignored(r)) return 'take';
      return isDir && ignore.mayIncludeBelow(r) ? 'below' : 'skip';
    },
    // Owners and xattrs are not sent (no xattr reader given): the daemon makes COPY'd files
    // root's unless --chown says otherwise.
    mapIds: () => [0, 0],
    append: extra ? [{ name: extra.name, mode: 0o600, content: extra.content }] : [],
  });
}
