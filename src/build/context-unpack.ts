/**
 * Unpacks a build context tar (issue #7: the context is streamed, never held in memory) and, in
 * the same pass, learns what a build asks of it later without going back to the disk:
 * - the tree (path -> kind, directory -> names), so `.dockerignore` walks and COPY source
 *   matching are lookups, not lstat/readdir round trips;
 * - the tarsum of each file and directory, the cache input of COPY/ADD (copy-hash.ts `entrySum`
 *   in 'context' style: name, mode, owner, size, type, bytes — no mtime), hashed while the bytes
 *   stream past, so a no-change rebuild reads no context file twice.
 *
 * A context is a tree the client sent, so every entry is written with synchronous calls into a
 * fresh directory: names are cleaned (one that climbs out is refused, as for layers), and an
 * entry below a symlink the tar made is resolved inside the root. Such a tar (rare: a context
 * whose paths go through its own symlinks) makes the index unreliable: it is then dropped
 * (`index: null`) and the context is read from disk as before. Hard links and device nodes get
 * no sum here (copy-hash.ts reads them from disk).
 */
import { createHash, type Hash } from 'node:crypto';
import { chmodSync, closeSync, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lutimesSync, mkdirSync, openSync, readSync, rmSync, symlinkSync, utimesSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { InvalidArgument } from '../errdefs/index.js';
import { cleanEntryPath, resolveInRoot } from '../storage/index.js';
import { native } from '../native/index.js';

export type EntryKind = 'dir' | 'file' | 'symlink' | 'other';

/** The unpacked tree: every path (relative, the root is '.') and the names in each directory. */
export class ContextIndex {
  readonly #kinds = new Map<string, EntryKind>([['.', 'dir']]);
  readonly #children = new Map<string, Set<string>>([['.', new Set()]]);

  kind(rel: string): EntryKind | undefined {
    return this.#kinds.get(rel);
  }

  /** The names in directory `rel`, sorted as `readdir().sort()` would. */
  list(rel: string): string[] {
    return [...this.#children.get(rel) ?? []].sort();
  }

  add(rel: string, kind: EntryKind): void {
    const prev = this.#kinds.get(rel);
    if (prev === 'dir' && kind !== 'dir') this.#drop(rel);
    this.#kinds.set(rel, kind);
    if (kind === 'dir' && !this.#children.has(rel)) this.#children.set(rel, new Set());
    const slash = rel.lastIndexOf('/');
    const parent = slash < 0 ? '.' : rel.slice(0, slash);
    if (!this.#kinds.has(parent)) this.add(parent, 'dir');
    this.#children.get(parent)?.add(rel.slice(slash + 1));
  }

  #drop(rel: string): void {
    for (const name of this.#children.get(rel) ?? []) {
      const child = `${rel}/${name}`;
      if (this.#kinds.get(child) === 'dir') this.#drop(child);
      this.#kinds.delete(child);
    }
    this.#children.delete(rel);
  }
}

export interface UnpackedContext {
  /** null when the tree on disk must be read instead (see the header). */
  index: ContextIndex | null;
  /** path -> tarsum, for the entries the pass could hash. */
  sums: Map<string, string>;
  /** The files not written into the directory yet. */
  pending: PendingFiles;
}

interface PendingFile {
  offset: number;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
}

/**
 * Regular files of the context kept, as they streamed in, in one data file beside the context
 * directory rather than as files in it: a rebuild whose steps all hit the cache never needs them
 * there (their sums are known), and creating a file costs ~0.2 ms here where appending its bytes
 * costs next to nothing. `materialize` writes them out (once) before anything reads the tree.
 */
export class PendingFiles {
  readonly #dir: string;
  readonly #data: string;
  readonly #files = new Map<string, PendingFile>();
  readonly #dirTimes: Array<[string, Date]> = [];
  #size = 0;
  #done: Promise<void> | null = null;

  constructor(dir: string, data: string) {
    this.#dir = dir;
    this.#data = data;
  }

  get size(): number {
    return this.#files.size;
  }

  has(rel: string): boolean {
    return this.#files.has(rel);
  }

  /** Appends a file's bytes (written by `write` at the returned offset) and records it. */
  add(rel: string, file: Omit<PendingFile, 'offset'>): number {
    const offset = this.#size;
    this.#files.set(rel, { ...file, offset });
    this.#size += file.size;
    return offset;
  }

  /** Forgets `rel` and everything below it (replaced by a later entry of the tar). */
  drop(rel: string): void {
    this.#files.delete(rel);
    const below = `${rel}/`;
    for (const k of this.#files.keys()) if (k.startsWith(below)) this.#files.delete(k);
  }

  dirTime(path: string, mtime: Date): void {
    this.#dirTimes.push([path, mtime]);
  }

  /** The bytes of a pending file, or null when it is not pending. */
  read(rel: string): Buffer | null {
    const f = this.#files.get(rel);
    if (!f) return null;
    const fd = openSync(this.#data, 'r');
    try {
      const buf = Buffer.alloc(f.size);
      for (let done = 0; done < f.size;) {
        const n = readSync(fd, buf, done, f.size - done, f.offset + done);
        if (n === 0) throw new Error(`build context data file ${this.#data}: ${rel} is truncated`);
        done += n;
      }
      return buf;
    } finally {
      closeSync(fd);
    }
  }

  /** Writes every pending file into the directory (once; later calls wait for the first). */
  materialize(): Promise<void> {
    this.#done ??= this.#write();
    return this.#done;
  }

  async #write(): Promise<void> {
    const files = [...this.#files];
    if (files.length > 0) {
      const fd = openSync(this.#data, 'r');
      const buf = Buffer.allocUnsafe(1 << 20);
      try {
        let t0 = performance.now();
        for (const [rel, f] of files) {
          if (performance.now() - t0 > SLICE_MS) {
            // Let the event loop breathe between slices of synchronous writes.
            await new Promise<void>((resolve) => setImmediate(resolve));
            t0 = performance.now();
          }
          const out = openSync(join(this.#dir, rel), 'wx', 0o600);
          try {
            for (let done = 0; done < f.size;) {
              const n = readSync(fd, buf, 0, Math.min(buf.length, f.size - done), f.offset + done);
              if (n === 0) throw new Error(`build context data file ${this.#data}: ${rel} is truncated`);
              for (let off = 0; off < n;) off += writeSync(out, buf, off, n - off);
              done += n;
            }
            setMetadata(out, f);
          } finally {
            closeSync(out);
          }
          this.#files.delete(rel);
        }
      } finally {
        closeSync(fd);
      }
    }
    // Directory times last: writing into a directory changes its mtime.
    for (let i = this.#dirTimes.length - 1; i >= 0; i--) {
      const [p, t] = this.#dirTimes[i] as [string, Date];
      utimesSync(p, t, t);
    }
  }
}

/** How long one synchronous slice of writes may hold the event loop. */
const SLICE_MS = 8;

function setMetadata(fd: number, f: Pick<PendingFile, 'mode' | 'uid' | 'gid' | 'mtime'>): void {
  // Owner first: a chown clears the set-id bits the mode may carry.
  fchownSync(fd, f.uid, f.gid);
  fchmodSync(fd, f.mode);
  futimesSync(fd, f.mtime, f.mtime);
}

/**
 * Unpacks `input` into the empty directory `dir`: directories and symlinks at once, regular files
 * into `<dir>.data` until `pending.materialize()`.
 */
export async function unpackContext(input: Readable, dir: string, signal?: AbortSignal): Promise<UnpackedContext> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const index = new ContextIndex();
  const sums = new Map<string, string>();
  const links = new Set<string>();
  const pending = new PendingFiles(dir, `${dir}.data`);
  const data = openSync(`${dir}.data`, 'wx', 0o600);
  let reliable = true;
  const extract = tar.extract();
  const piping = pipeline(input, extract, signal ? { signal } : {});
  piping.catch(() => undefined); // seen below, after the entries
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const rel = cleanEntryPath(h.name);
      if (rel === '') {
        entry.resume();
        continue;
      }
      // A path through a symlink this tar made: resolved inside the root, and the index given up.
      let path = join(dir, rel);
      if (throughLink(rel, links)) {
        reliable = false;
        path = await resolveInRoot(dir, rel);
      }
      const kind = kindOf(h.type);
      const mode = (h.mode ?? 0) & 0o7777;
      const uid = h.uid ?? 0;
      const gid = h.gid ?? 0;
      const mtime = h.mtime ?? new Date();
      const known = index.kind(rel);
      if ((known !== undefined || !reliable) && !(kind === 'dir' && known === 'dir')) {
        rmSync(path, { recursive: true, force: true });
        pending.drop(rel);
      }
      const slash = rel.lastIndexOf('/');
      // A parent the tar did not list (or listed as something else): made as mkdir -p would.
      if (slash >= 0 && index.kind(rel.slice(0, slash)) !== 'dir') {
        pending.drop(rel.slice(0, slash));
        mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
      }
      if (h.type === 'directory') {
        mkdirSync(path, { recursive: true });
        lchownSync(path, uid, gid);
        chmodSync(path, mode);
        pending.dirTime(path, mtime);
        sums.set(rel, sumOf(rel + '/', mode, uid, gid, 0, '5', '').digest('hex'));
        entry.resume();
      } else if (h.type === 'file' || h.type === 'contiguous-file') {
        const size = h.size ?? 0;
        const hash = sumOf(rel, mode, uid, gid, size, '0', '');
        // Below a symlink of the tar the file is written where that leads, at once.
        const fd = reliable ? data : openSync(path, 'wx', 0o600);
        try {
          let written = 0;
          for await (const chunk of entry as AsyncIterable<Buffer>) {
            hash.update(chunk);
            for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off);
            written += chunk.length;
          }
          if (written !== size) throw new InvalidArgument(`build context entry "${h.name}": ${written} bytes where its header says ${size}`);
          if (fd === data) pending.add(rel, { size, mode, uid, gid, mtime });
          else setMetadata(fd, { mode, uid, gid, mtime });
        } finally {
          if (fd !== data) closeSync(fd);
        }
        sums.set(rel, hash.digest('hex'));
      } else if (h.type === 'symlink') {
        const target = h.linkname ?? '';
        symlinkSync(target, path);
        lchownSync(path, uid, gid);
        lutimesSync(path, mtime, mtime);
        // No sum: copy-hash.ts hashes a symlink as what it points to.
        links.add(rel);
        entry.resume();
      } else if (h.type === 'link') {
        // A second name of a file: its sum is read from disk when needed.
        await pending.materialize();
        const target = cleanEntryPath(h.linkname ?? '');
        linkSync(await resolveInRoot(dir, target), path);
        entry.resume();
      } else if (h.type === 'character-device' || h.type === 'block-device' || h.type === 'fifo') {
        // Rare in a context; made as they were sent (their sums come from disk when needed).
        const type = h.type === 'fifo' ? 0o010000 : h.type === 'block-device' ? 0o060000 : 0o020000;
        native().mknod(path, type | mode, h.devmajor ?? 0, h.devminor ?? 0);
        lchownSync(path, uid, gid);
        entry.resume();
      } else {
        throw new InvalidArgument(`build context entry "${h.name}": tar entries of type ${h.type ?? 'unknown'} cannot be unpacked; leave it out with .dockerignore`);
      }
      index.add(rel, kind);
    }
    await piping;
  } catch (err) {
    extract.destroy();
    await piping.catch(() => undefined);
    throw err;
  } finally {
    closeSync(data);
  }
  // Without an index, the tree is read from disk: it must all be there.
  if (!reliable) await pending.materialize();
  return { index: reliable ? index : null, sums, pending };
}

/** Whether an ancestor of `rel` is a symlink the tar made. */
function throughLink(rel: string, links: ReadonlySet<string>): boolean {
  if (links.size === 0) return false;
  for (let i = rel.indexOf('/'); i >= 0; i = rel.indexOf('/', i + 1)) {
    if (links.has(rel.slice(0, i))) return true;
  }
  return false;
}

function kindOf(type: tar.Header['type']): EntryKind {
  return type === 'directory' ? 'dir' : type === 'symlink' ? 'symlink' : type === 'file' || type === 'contiguous-file' || type === 'link' ? 'file' : 'other';
}

/** The start of an entry's tarsum, as copy-hash.ts `entrySum` computes it for a context entry. */
function sumOf(name: string, mode: number, uid: number, gid: number, size: number, typeflag: string, linkname: string): Hash {
  const h = createHash('sha256');
  for (const [k, v] of [['name', name], ['mode', mode], ['uid', uid], ['gid', gid], ['size', size], ['typeflag', typeflag], ['linkname', linkname], ['uname', ''], ['gname', ''], ['devmajor', 0], ['devminor', 0]] as const) {
    h.update(`${k}${v}`);
  }
  return h;
}
