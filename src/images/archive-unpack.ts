/**
 * Unpacks an image archive (docker-archive or OCI layout, plain or gzip'ed) into a temp directory
 * in one pass, hashing every file on the way. Entry names are never used as host paths: each
 * regular file lands at <dir>/<n> and is found through a map keyed by its cleaned archive path,
 * so a hostile name (`../x`, absolute, symlinked parents) cannot write outside the directory.
 */
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { InvalidArgument, isHakoError } from '../errdefs/index.js';
import { Hasher, uncompressed } from './streams.js';

export interface ArchiveFile {
  /** Host path of the unpacked bytes. */
  path: string;
  digest: string;
  size: number;
}

/** JSON documents of an archive (manifests, configs, indexes) are small; refuse absurd ones. */
const MAX_JSON_BYTES = 16 * 1024 * 1024;
const MAX_LINK_DEPTH = 16;

export class UnpackedArchive {
  readonly #files = new Map<string, ArchiveFile>();
  readonly #links = new Map<string, string>();

  /** The file at archive path `name` (symlinks and hard links followed), or null. */
  file(name: string): ArchiveFile | null {
    let p = cleanArchivePath(name);
    for (let depth = 0; depth <= MAX_LINK_DEPTH; depth++) {
      if (p === null) return null;
      const f = this.#files.get(p);
      if (f) return f;
      const target = this.#links.get(p);
      if (target === undefined) return null;
      p = target;
    }
    return null;
  }

  /** Like file(), but InvalidArgument naming what is missing. */
  need(name: string, what: string): ArchiveFile {
    const f = this.file(name);
    if (!f) throw new InvalidArgument(`invalid image archive: ${what} "${name}" is not in the archive (truncated or incomplete?)`);
    return f;
  }

  /** Parses a JSON file of the archive; `what` names it in errors. */
  async json(name: string, what: string): Promise<unknown> {
    const f = this.need(name, what);
    if (f.size > MAX_JSON_BYTES) throw new InvalidArgument(`invalid image archive: ${what} "${name}" is ${f.size} bytes, too big for a JSON document`);
    try {
      return JSON.parse(await readFile(f.path, 'utf8'));
    } catch (err) {
      throw new InvalidArgument(`invalid image archive: ${what} "${name}" is not valid JSON: ${(err as Error).message}`);
    }
  }

  has(name: string): boolean {
    return this.file(name) !== null;
  }

  /** Unpacks `input` into `dir` (which must exist and be empty). */
  static async unpack(input: Readable, dir: string, signal?: AbortSignal): Promise<UnpackedArchive> {
    const out = new UnpackedArchive();
    const extract = tar.extract();
    let count = 0;
    const source = await uncompressed(input, 'image archive');
    const feeding = pipeline(source, extract, signal ? { signal } : {});
    // pipeline rejects too when iteration below fails and destroys `extract`; that error is ours.
    feeding.catch(() => {});
    try {
      for await (const entry of extract) {
        const h = entry.header;
        const name = cleanArchivePath(h.name);
        if (name === null) {
          entry.resume();
          throw new InvalidArgument(`invalid image archive: entry "${h.name}" climbs out of the archive`);
        }
        if (h.type === 'file' || h.type === 'contiguous-file') {
          const path = join(dir, String(count++));
          const hasher = new Hasher();
          await pipeline(entry, hasher, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
          out.#files.set(name, { path, digest: hasher.digest(), size: hasher.size });
        } else if (h.type === 'symlink' || h.type === 'link') {
          const link = h.linkname ?? '';
          // Symlinks are relative to the entry's directory; hard links name an archive path.
          const target = cleanArchivePath(h.type === 'symlink' && !link.startsWith('/') ? posix.join(posix.dirname(name), link) : link);
          if (target === null) throw new InvalidArgument(`invalid image archive: link "${h.name}" -> "${link}" points out of the archive`);
          out.#links.set(name, target);
          entry.resume();
        } else {
          entry.resume(); // directories and the like carry nothing an image needs
        }
      }
      await feeding;
    } catch (err) {
      extract.destroy();
      throw asArchiveError(err);
    }
    if (out.#files.size === 0) throw new InvalidArgument('invalid image archive: it contains no files (empty or not a tar archive)');
    return out;
  }
}

/** Cleans an archive path ("./a//b/" -> "a/b"); null when it climbs above the archive root. */
function cleanArchivePath(name: string): string | null {
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return null;
      parts.pop();
    } else parts.push(part);
  }
  return parts.join('/');
}

function asArchiveError(err: unknown): unknown {
  if (isHakoError(err)) return err;
  if ((err as Error)?.name === 'AbortError') return err;
  const msg = (err as Error)?.message ?? String(err);
  return new InvalidArgument(`invalid image archive: ${msg} (is the tarball truncated or corrupt?)`, { cause: err });
}
