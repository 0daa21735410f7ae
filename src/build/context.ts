/**
 * The build context: the tar the client streams, unpacked onto disk under the build's temp dir
 * (never held in memory), `.dockerignore` applied, and the sources a COPY/ADD names resolved
 * and hashed (path, mode, uid/gid, bytes — not mtimes) for the cache key.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidArgument, NotFound } from '../errdefs/index.js';
import { unpackContext, type ContextIndex, type PendingFiles } from './context-unpack.js';
import { entrySum, sourceHash } from './copy-hash.js';
import { IgnoreMatcher, patternToRegExp } from '../archive/index.js';

export class BuildContext {
  readonly root: string;
  readonly ignore: IgnoreMatcher;
  /** The ignore file's lines, for withIgnored. */
  readonly #lines: readonly string[];
  /** The tree as unpacked (context-unpack.ts), or null: read the disk. */
  readonly #index: ContextIndex | null;
  /** Tarsums of the context's files and directories, taken while they streamed in (copy-hash.ts `entrySum`), by path. */
  readonly sums: ReadonlyMap<string, string>;

  /** Files still in the data file (context-unpack.ts): `materialize` before reading `root` from disk. */
  readonly #pending: PendingFiles | null;

  private constructor(root: string, ignore: IgnoreMatcher, lines: readonly string[] = [], index: ContextIndex | null = null, sums: ReadonlyMap<string, string> = new Map(), pending: PendingFiles | null = null) {
    this.root = root;
    this.ignore = ignore;
    this.#lines = lines;
    this.#index = index;
    this.sums = sums;
    this.#pending = pending;
  }

  /**
   * Writes the context's files into `root` (once). Everything that reads the context from disk
   * waits for this first: a COPY that runs, a RUN --mount from the context. A build whose steps
   * all hit the cache never does.
   */
  async materialize(): Promise<void> {
    await this.#pending?.materialize();
  }

  /** Another tree (a stage's or image's root for `COPY --from --exclude`) seen through ignore `lines`. */
  static over(root: string, lines: readonly string[]): BuildContext {
    return new BuildContext(root, new IgnoreMatcher(lines), lines);
  }

  /** The same context with more ignore lines after the file's (COPY --exclude: they win over its `!` exceptions). */
  withIgnored(lines: readonly string[]): BuildContext {
    const all = [...this.#lines, ...lines];
    return new BuildContext(this.root, new IgnoreMatcher(all), all, this.#index, this.sums, this.#pending);
  }

  /** Unpacks `tar` into `dir` and reads the ignore file that goes with `dockerfile`. */
  static async unpack(tar: Readable, dir: string, dockerfile: string, signal?: AbortSignal): Promise<BuildContext> {
    const { index, sums, pending } = await unpackContext(tar, dir, signal);
    let lines: string[] = [];
    for (const name of [`${dockerfile}.dockerignore`, '.dockerignore']) {
      try {
        lines = (pending.read(name) ?? await readFile(join(dir, name))).toString('utf8').split(/\r?\n/);
        break;
      } catch {
        // no such ignore file: try the next
      }
    }
    return new BuildContext(dir, new IgnoreMatcher(lines), lines, index, sums, pending);
  }

  async readDockerfile(name: string): Promise<string> {
    const rel = inContext(name, 'Dockerfile');
    try {
      const pending = this.#pending?.read(rel);
      if (pending) return pending.toString('utf8');
      // Not a pending file: on disk, or a symlink whose target must be written out first.
      if (this.#index?.kind(rel) !== undefined && this.#index.kind(rel) !== 'file') await this.materialize();
      return await readFile(join(this.root, rel), 'utf8');
    } catch {
      throw new NotFound(`Cannot locate specified Dockerfile: ${name}`);
    }
  }

  /**
   * The context paths a COPY source names (wildcards allowed), ignored ones left out. NotFound
   * when nothing matches; InvalidArgument when it points outside the context.
   */
  async match(src: string): Promise<string[]> {
    const rel = inContext(src, src);
    if (rel === '.') return ['.'];
    if (!/[*?[]/.test(rel)) {
      if (this.ignore.ignored(rel) || !(await this.#exists(rel))) throw notFound(src);
      return [rel];
    }
    const re = patternToRegExp(rel);
    // `**` matches any number of directories (COPY --parents ./src/**/*.txt): walk every level.
    const depth = rel.includes('**') ? Number.POSITIVE_INFINITY : rel.split('/').length;
    const out: string[] = [];
    const walk = async (dir: string, level: number): Promise<void> => {
      for (const name of await this.#list(dir)) {
        const child = dir === '.' ? name : `${dir}/${name}`;
        if (level === depth || (depth === Number.POSITIVE_INFINITY && re.test(child))) {
          // A match is copied whole: its contents are not matched again.
          if (re.test(child) && !this.ignore.ignored(child)) out.push(child);
          continue;
        }
        if (await this.#isDir(child)) await walk(child, level + 1);
      }
    };
    await walk('.', 1);
    if (out.length === 0) throw notFound(src);
    return out;
  }

  /** Every entry under `rel` (itself included) that is not ignored, sorted, parents first. */
  async entries(rel: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (p: string): Promise<void> => {
      const isDir = await this.#isDir(p);
      if (p !== '.' && this.ignore.ignored(p)) {
        if (!(isDir && this.ignore.mayIncludeBelow(p))) return;
      } else out.push(p);
      if (!isDir) return;
      for (const name of await this.#list(p)) await walk(p === '.' ? name : `${p}/${name}`);
    };
    await walk(rel);
    return out;
  }

  /** The names in directory `rel` of the context, sorted. */
  // The index answers for the paths the tar named; any other path (one through a symlinked
  // directory of the context) is looked up on disk, with every file written out first.
  async #list(rel: string): Promise<string[]> {
    if (this.#index?.kind(rel) === 'dir') return this.#index.list(rel);
    await this.materialize();
    return (await readdir(join(this.root, rel))).sort();
  }

  /** Whether `rel` is a directory (not a symlink to one); throws ENOENT for a path that is not there, as lstat does. */
  async #isDir(rel: string): Promise<boolean> {
    const kind = this.#index?.kind(rel);
    if (kind !== undefined) return kind === 'dir';
    await this.materialize();
    return (await lstat(join(this.root, rel))).isDirectory();
  }

  async #exists(rel: string): Promise<boolean> {
    if (this.#index?.kind(rel) !== undefined) return true;
    await this.materialize();
    return exists(join(this.root, rel));
  }

  /**
   * The history's source hash of `rel` (copy-hash.ts `sourceHash` in 'context' style): from the
   * sums taken while the context streamed in when they cover it, else from disk.
   */
  async sourceHash(rel: string, entries: readonly string[], sums: Map<string, string>): Promise<string> {
    const kind = this.#index?.kind(rel);
    const below = entries.filter((p) => p !== '.' && p !== '');
    if (kind === 'dir' && below.every((p) => sums.has(p))) {
      return `dir:${createHash('sha256').update(below.map((p) => sums.get(p) as string).sort().join(',')).digest('hex')}`;
    }
    if (kind === 'file' && sums.has(rel)) return `file:${sums.get(rel) as string}`;
    await this.materialize();
    return sourceHash(this.root, rel, entries, 'context', sums);
  }

  /** copy-hash.ts `entrySum` of `rel` read from disk (an entry the stream gave no sum: a symlink, a hard link). */
  async entrySumOnDisk(rel: string): Promise<string> {
    await this.materialize();
    const abs = join(this.root, rel);
    return entrySum(abs, rel, await lstat(abs), 'context');
  }

  /** The content hash of `paths` (relative to the context): names, modes, owners, bytes. */
  async hash(paths: readonly string[]): Promise<string> {
    await this.materialize();
    const h = createHash('sha256');
    for (const p of paths) {
      const abs = join(this.root, p);
      const st = await lstat(abs);
      h.update(`${p}\0${st.mode}\0${st.uid}\0${st.gid}\0`);
      if (st.isSymbolicLink()) h.update(await readlink(abs));
      else if (st.isFile()) {
        for await (const chunk of createReadStream(abs)) h.update(chunk as Buffer);
      }
      h.update('\0');
    }
    return h.digest('hex');
  }
}

/** `src` cleaned and relative to the context root; refuses paths that leave it. */
export function inContext(src: string, shown: string): string {
  const cleaned = posix.normalize(`/${src}`).slice(1);
  if (posix.normalize(src).startsWith('../') || posix.normalize(src) === '..' || cleaned.startsWith('..')) {
    throw new InvalidArgument(`forbidden path outside the build context: ${shown}`);
  }
  return cleaned === '' ? '.' : cleaned.replace(/\/$/, '');
}

function notFound(src: string): NotFound {
  return new NotFound(`file not found in build context or excluded by .dockerignore: stat ${src}: file does not exist`);
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}
