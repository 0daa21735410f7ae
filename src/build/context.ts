/**
 * The build context: the tar the client streams, unpacked onto disk under the build's temp dir
 * (never held in memory), `.dockerignore` applied, and the sources a COPY/ADD names resolved
 * and hashed (path, mode, uid/gid, bytes — not mtimes) for the cache key.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidArgument, NotFound } from '../errdefs/index.js';
import { applyLayerTar } from '../storage/index.js';
import { IgnoreMatcher, patternToRegExp } from './dockerignore.js';

export class BuildContext {
  readonly root: string;
  readonly ignore: IgnoreMatcher;

  private constructor(root: string, ignore: IgnoreMatcher) {
    this.root = root;
    this.ignore = ignore;
  }

  /** Unpacks `tar` into `dir` and reads the ignore file that goes with `dockerfile`. */
  static async unpack(tar: Readable, dir: string, dockerfile: string, signal?: AbortSignal): Promise<BuildContext> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await applyLayerTar(tar, dir, { mode: 'flatten', ...(signal ? { signal } : {}) });
    let lines: string[] = [];
    for (const name of [`${dockerfile}.dockerignore`, '.dockerignore']) {
      try {
        lines = (await readFile(join(dir, name), 'utf8')).split(/\r?\n/);
        break;
      } catch {
        // no such ignore file: try the next
      }
    }
    return new BuildContext(dir, new IgnoreMatcher(lines));
  }

  async readDockerfile(name: string): Promise<string> {
    const rel = inContext(name, 'Dockerfile');
    try {
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
      if (this.ignore.ignored(rel) || !(await exists(join(this.root, rel)))) throw notFound(src);
      return [rel];
    }
    const re = patternToRegExp(rel);
    const depth = rel.split('/').length;
    const out: string[] = [];
    const walk = async (dir: string, level: number): Promise<void> => {
      for (const name of (await readdir(join(this.root, dir))).sort()) {
        const child = dir === '.' ? name : `${dir}/${name}`;
        if (level === depth) {
          if (re.test(child) && !this.ignore.ignored(child)) out.push(child);
        } else if ((await lstat(join(this.root, child))).isDirectory()) await walk(child, level + 1);
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
      const st = await lstat(join(this.root, p));
      if (p !== '.' && this.ignore.ignored(p)) {
        if (!(st.isDirectory() && this.ignore.mayIncludeBelow(p))) return;
      } else out.push(p);
      if (!st.isDirectory()) return;
      for (const name of (await readdir(join(this.root, p))).sort()) await walk(p === '.' ? name : `${p}/${name}`);
    };
    await walk(rel);
    return out;
  }

  /** The content hash of `paths` (relative to the context): names, modes, owners, bytes. */
  async hash(paths: readonly string[]): Promise<string> {
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
