/**
 * Tars a directory tree, streaming with back-pressure: modes, owners, mtimes, symlinks, hard links
 * (one inode is written once, then linked by name), devices, fifos and xattrs (PAX
 * SCHILY.xattr.*). Sockets are skipped, as Docker does. Names are sorted so the same tree always
 * gives the same tar, hence the same diffID.
 *
 * In layer form the tree is an overlay upper or lower dir: a char 0/0 device becomes `.wh.<name>`
 * and a directory with trusted.overlay.opaque=y gets a `.wh..wh..opq` entry (OCI image-spec
 * layer.md#whiteouts).
 *
 * Speed (issue #7, bench/build): a layer is mostly small files, and one awaited fs call per
 * lstat/read costs a thread-pool round trip each. So the walk runs synchronously in time slices
 * of a few milliseconds (the event loop stays responsive between them), headers are encoded here
 * straight into 1 MiB output chunks and file bodies are read into the same chunks: no per-entry
 * promise, no per-entry buffer. The bytes are those of ustar with PAX extended headers, as
 * tar-stream wrote them before (the same tree keeps its diffID), except that a mode of 0 stays 0
 * and ids above 0o777777 go into PAX `uid`/`gid` records.
 *
 * Pure Node: reading xattrs needs a system call Node lacks, so the caller hands in an
 * `XattrReader` (storage binds hako's native addon; the CLI packs build contexts without xattrs).
 */
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { isOverlayWhiteout, OVERLAY_OPAQUE_XATTR, OVERLAY_XATTR_PREFIX, WHITEOUT_OPAQUE, WHITEOUT_PREFIX } from './whiteouts.js';

/** The two xattr calls (llistxattr/lgetxattr, no symlink following) the writer needs. */
export interface XattrReader {
  /** Names of `path`'s xattrs; may throw ENOTSUP (the filesystem has none). */
  list(path: string): string[];
  /** The value, or null when it vanished meanwhile. */
  get(path: string, name: string): Buffer | null;
}

export interface TarDirectoryOptions {
  /**
   * Include `dir` itself as the first entry and name everything below it `<root name>/...`
   * (what `docker cp` sends). Default false: entries are named relative to `dir` (`bin/sh`).
   */
  includeRoot?: boolean;
  /** The name of the root entry when `includeRoot` is set. Default: the basename of `dir`. */
  rebaseName?: string;
  signal?: AbortSignal;
  /** Owner translation of every entry (userns-remap: host ids to container ids). */
  mapIds?: (uid: number, gid: number) => [number, number];
  /** Filled in as the tar is written: bytes of regular files (each inode once) and of symlinks, as docker's layer sizes. */
  stats?: TarStats;
  /**
   * Which entries go in, by path relative to `dir` (no trailing slash): 'take' (the default),
   * 'skip' (left out, a directory with all below it), or 'below' (a directory left out whose
   * contents are still walked: a `.dockerignore` exception below an ignored directory).
   */
  select?: (rel: string, isDir: boolean) => 'take' | 'skip' | 'below';
  /** Reads xattrs, written as PAX records `SCHILY.xattr.<name>`. Default: none are written. */
  xattrs?: XattrReader | undefined;
  /** Files written after the tree (a build context's Dockerfile from elsewhere). */
  append?: ReadonlyArray<{ name: string; mode: number; content: Buffer }>;
}

export interface TarStats {
  fileBytes: number;
}

/** A tar of `dir` (a directory, or with `includeRoot` any file) as a Node Readable. */
export function tarDirectory(dir: string, opts: TarDirectoryOptions = {}): Readable {
  return packTree(dir, { ...opts, layerForm: false });
}

/**
 * A tar of an overlay layer dir (an upper dir, or a snapshot's diff dir) in image-layer form:
 * whiteout devices become `.wh.<name>` entries and opaque directories get `.wh..wh..opq`.
 */
export function tarLayerDir(dir: string, opts: LayerTarOptions): Readable {
  return packTree(dir, { ...opts, layerForm: true });
}

export interface LayerTarOptions {
  /** Reads xattrs: required, since an opaque directory is an xattr (trusted.overlay.opaque). */
  xattrs: XattrReader;
  /**
   * Asked for each whiteout (by its root-relative path); a whiteout answered false is left out.
   * Default: every whiteout is written.
   */
  keepWhiteout?: (rel: string) => Promise<boolean>;
  signal?: AbortSignal;
  mapIds?: (uid: number, gid: number) => [number, number];
  stats?: TarStats;
}

interface PackOptions extends TarDirectoryOptions, Omit<LayerTarOptions, 'xattrs'> {
  layerForm: boolean;
}

/** Output chunk size; also the most a large file's body is read at once. */
const CHUNK = 1 << 20;
/** How long one synchronous slice of the walk may hold the event loop. */
const SLICE_MS = 8;

/** What the walk yields: nothing (a unit of work done, the pump may pause) or a question to await. */
type Yielded = Promise<boolean> | undefined;
type Walk = Generator<Yielded, void, boolean | undefined>;

function packTree(dir: string, opts: PackOptions): Readable {
  let wake: (() => void) | null = null;
  let blocked = false;
  let started = false;
  const resume = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const out = new Readable({
    highWaterMark: 2 * CHUNK,
    read() {
      blocked = false;
      // Start on the first read, so a stream that is never consumed does no work.
      if (started) return resume();
      started = true;
      start();
    },
    destroy(err, cb) {
      resume();
      cb(err);
    },
  });
  const chunks = new ChunkWriter((buf) => {
    if (!out.push(buf)) blocked = true;
  });
  const walk = new TreeWriter(chunks, opts).run(dir, opts);
  const onAbort = () => out.destroy((opts.signal?.reason as Error | undefined) ?? new Error('aborted'));
  const pump = async (): Promise<void> => {
    opts.signal?.throwIfAborted();
    let answer: boolean | undefined;
    for (;;) {
      if (out.destroyed) return;
      const t0 = performance.now();
      let step: IteratorResult<Yielded, void>;
      do {
        step = walk.next(answer);
        answer = undefined;
      } while (!step.done && step.value === undefined && !blocked && performance.now() - t0 < SLICE_MS);
      chunks.flush();
      if (step.done) {
        chunks.end();
        out.push(null);
        return;
      }
      if (step.value !== undefined) answer = await step.value;
      else if (blocked) await new Promise<void>((resolve) => { wake = resolve; });
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
  const start = (): void => {
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    pump().then(
      () => {
        opts.signal?.removeEventListener('abort', onAbort);
        walk.return(); // closes a file left open by a destroyed stream
      },
      (err: unknown) => {
        opts.signal?.removeEventListener('abort', onAbort);
        walk.return();
        out.destroy(err as Error);
      },
    );
  };
  return out;
}

/** Fills 1 MiB chunks with headers and bodies; hands each filled stretch to `push`. */
class ChunkWriter {
  #buf = Buffer.allocUnsafe(CHUNK);
  #start = 0;
  #off = 0;
  #push: (buf: Buffer) => void;

  constructor(push: (buf: Buffer) => void) {
    this.#push = push;
  }

  /** A zeroed block of `n` (<= CHUNK) contiguous bytes to fill. */
  block(n: number): { buf: Buffer; off: number } {
    if (CHUNK - this.#off < n) this.#next();
    const off = this.#off;
    this.#buf.fill(0, off, off + n);
    this.#off += n;
    return { buf: this.#buf, off };
  }

  /** Room for up to `max` bytes of a body at the current position (at least 1 byte). */
  room(max: number): { buf: Buffer; off: number; len: number } {
    if (this.#off === CHUNK) this.#next();
    return { buf: this.#buf, off: this.#off, len: Math.min(max, CHUNK - this.#off) };
  }

  advance(n: number): void {
    this.#off += n;
  }

  get full(): boolean {
    return this.#off === CHUNK;
  }

  /** Zero padding of a body of `size` bytes to the 512-byte record. */
  pad(size: number): void {
    const rest = size & 511;
    if (rest !== 0) this.block(512 - rest);
  }

  flush(): void {
    if (this.#off === this.#start) return;
    const piece = this.#buf.subarray(this.#start, this.#off);
    this.#start = this.#off;
    this.#push(piece);
  }

  /** The two zero records that end a tar. */
  end(): void {
    this.block(1024);
    this.flush();
  }

  #next(): void {
    this.flush();
    this.#buf = Buffer.allocUnsafe(CHUNK);
    this.#start = 0;
    this.#off = 0;
  }
}

const TYPE = { file: 0x30, link: 0x31, symlink: 0x32, char: 0x33, block: 0x34, directory: 0x35, fifo: 0x36, pax: 0x78 } as const;

interface Header {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  type: number;
  linkname?: string | undefined;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string> | undefined;
}

const MAX_ID = 0o777777;

/** Writes `h` as one ustar header, or a PAX header record, its records, and the ustar header. */
function writeHeader(out: ChunkWriter, h: Header): void {
  let pax = h.pax;
  if (h.uid > MAX_ID || h.gid > MAX_ID) pax = { ...pax, uid: String(h.uid), gid: String(h.gid) };
  if (!pax) {
    const split = ustarName(h.name);
    if (split && (h.linkname === undefined || (isAscii(h.linkname) && h.linkname.length <= 100))) {
      encodeUstar(out, h, split.name, split.prefix, h.linkname, h.size, h.type);
      return;
    }
  }
  let text = paxRecord('path', h.name);
  if (h.linkname) text += paxRecord('linkpath', h.linkname);
  for (const [k, v] of Object.entries(pax ?? {})) text += paxRecord(k, v);
  const records = Buffer.from(text, 'utf8');
  const linkname = h.linkname ? 'PaxHeader' : undefined;
  encodeUstar(out, h, 'PaxHeader', '', linkname, records.length, TYPE.pax);
  writeBytes(out, records);
  out.pad(records.length);
  encodeUstar(out, h, 'PaxHeader', '', linkname, h.size, h.type);
}

function writeBytes(out: ChunkWriter, data: Buffer): void {
  let done = 0;
  while (done < data.length) {
    const r = out.room(data.length - done);
    data.copy(r.buf, r.off, done, done + r.len);
    out.advance(r.len);
    done += r.len;
  }
}

/** ustar's name/prefix split of an ASCII name, or null when it needs PAX. */
function ustarName(full: string): { name: string; prefix: string } | null {
  if (!isAscii(full)) return null;
  let name = full;
  let prefix = '';
  while (name.length > 100) {
    const i = name.indexOf('/');
    if (i === -1) return null;
    prefix += prefix ? '/' + name.slice(0, i) : name.slice(0, i);
    name = name.slice(i + 1);
  }
  if (prefix.length > 155) return null;
  return { name, prefix };
}

function encodeUstar(out: ChunkWriter, h: Header, name: string, prefix: string, linkname: string | undefined, size: number, type: number): void {
  const { buf, off } = out.block(512);
  buf.write(name, off, 100, 'latin1');
  octal(buf, off + 100, h.mode & 0o7777, 6);
  octal(buf, off + 108, Math.min(h.uid, MAX_ID), 6);
  octal(buf, off + 116, Math.min(h.gid, MAX_ID), 6);
  if (size > 0o77777777777) {
    // GNU base-256 for sizes that do not fit 11 octal digits.
    buf[off + 124] = 0x80;
    let n = size;
    for (let i = 11; i > 0; i--) {
      buf[off + 124 + i] = n % 256;
      n = Math.floor(n / 256);
    }
  } else octal(buf, off + 124, size, 11);
  octal(buf, off + 136, Math.max(0, h.mtime), 11);
  buf[off + 156] = type;
  if (linkname) buf.write(linkname, off + 157, 100, 'latin1');
  buf.write('ustar\x0000', off + 257, 8, 'latin1');
  octal(buf, off + 329, h.devmajor ?? 0, 6);
  octal(buf, off + 337, h.devminor ?? 0, 6);
  if (prefix) buf.write(prefix, off + 345, 155, 'latin1');
  let sum = 8 * 32;
  for (let i = 0; i < 148; i++) sum += buf[off + i] as number;
  for (let i = 156; i < 512; i++) sum += buf[off + i] as number;
  octal(buf, off + 148, sum, 6);
}

/** `digits` octal digits, zero-padded, then a space (all sevens when it does not fit). */
function octal(buf: Buffer, at: number, value: number, digits: number): void {
  let s = value.toString(8);
  s = s.length > digits ? '7'.repeat(digits) : '0'.repeat(digits - s.length) + s;
  buf.write(s + ' ', at, digits + 1, 'latin1');
}

/** A PAX record: "<length> <key>=<value>\n", the length counting itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const len = Buffer.byteLength(body);
  let digits = String(len).length;
  if (len + digits >= 10 ** digits) digits++;
  return `${len + digits}${body}`;
}

function isAscii(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(s);
}

class TreeWriter {
  #out: ChunkWriter;
  #layerForm: boolean;
  /** dev:ino of files with several links -> the name they were first written under. */
  #inodes = new Map<string, string>();
  #keepWhiteout: ((rel: string) => Promise<boolean>) | undefined;
  #mapIds: ((uid: number, gid: number) => [number, number]) | undefined;
  #stats: TarStats;
  #select: TarDirectoryOptions['select'];
  #xattrReader: XattrReader | undefined;

  constructor(out: ChunkWriter, opts: PackOptions) {
    this.#out = out;
    this.#layerForm = opts.layerForm;
    this.#keepWhiteout = opts.keepWhiteout;
    this.#mapIds = opts.mapIds;
    this.#stats = opts.stats ?? { fileBytes: 0 };
    this.#select = opts.select;
    this.#xattrReader = opts.xattrs;
    if (this.#layerForm && !this.#xattrReader) throw new TypeError('tarLayerDir needs an xattr reader (opaque directories are xattrs)');
  }

  *run(dir: string, opts: PackOptions): Walk {
    const st = lstatSync(dir);
    if (opts.includeRoot) {
      const rootName = (opts.rebaseName ?? basename(dir)).replace(/^\/+|\/+$/g, '');
      yield* this.entry(dir, rootName, st);
      if (st.isDirectory()) yield* this.walk(dir, rootName + '/');
    } else if (st.isDirectory()) {
      yield* this.walk(dir, '');
    } else {
      yield* this.entry(dir, basename(dir), st);
    }
    const now = Math.trunc(Date.now() / 1000);
    for (const f of opts.append ?? []) {
      writeHeader(this.#out, { name: f.name, mode: f.mode, uid: 0, gid: 0, mtime: now, size: f.content.length, type: TYPE.file });
      writeBytes(this.#out, f.content);
      this.#out.pad(f.content.length);
    }
  }

  *walk(dir: string, prefix: string): Walk {
    for (const name of sortedNames(readdirSync(dir))) {
      const path = `${dir}/${name}`;
      const st = lstatSync(path);
      const take = this.#select?.(prefix + name, st.isDirectory()) ?? 'take';
      if (take === 'skip' || (take === 'below' && !st.isDirectory())) continue;
      if (take === 'take') yield* this.entry(path, prefix + name, st);
      if (st.isDirectory()) yield* this.walk(path, `${prefix}${name}/`);
    }
  }

  /** Writes the entry (without descending into a directory). */
  *entry(path: string, name: string, st: Stats): Walk {
    yield undefined;
    const header: Header = {
      name,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      // What Node's Stats.mtime (a Date of the rounded milliseconds) gave tar-stream.
      mtime: Math.trunc(Math.round(st.mtimeMs) / 1000),
      size: 0,
      type: TYPE.file,
    };
    if (this.#mapIds) [header.uid, header.gid] = this.#mapIds(st.uid, st.gid);
    if (this.#layerForm && isOverlayWhiteout(st)) {
      if (this.#keepWhiteout && !(yield this.#keepWhiteout(name))) return;
      const slash = name.lastIndexOf('/');
      header.name = name.slice(0, slash + 1) + WHITEOUT_PREFIX + name.slice(slash + 1);
      writeHeader(this.#out, header);
      return;
    }
    const xattrs = this.#xattrReader ? this.#xattrs(this.#xattrReader, path) : { opaque: false };
    if (xattrs.pax) header.pax = xattrs.pax;

    if (st.isDirectory()) {
      header.type = TYPE.directory;
      header.name = name === '' ? './' : name + '/';
      writeHeader(this.#out, header);
      if (xattrs.opaque) writeHeader(this.#out, { ...header, pax: undefined, name: header.name + WHITEOUT_OPAQUE, type: TYPE.file });
      return;
    }
    if (st.isFile()) {
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = this.#inodes.get(key);
        if (first !== undefined) {
          writeHeader(this.#out, { ...header, type: TYPE.link, linkname: first, pax: undefined });
          return;
        }
        this.#inodes.set(key, name);
      }
      header.size = st.size;
      this.#stats.fileBytes += st.size;
      writeHeader(this.#out, header);
      if (st.size > 0) yield* this.#body(path, st.size);
      return;
    }
    if (st.isSymbolicLink()) {
      header.type = TYPE.symlink;
      header.linkname = readlinkSync(path);
      // Docker's layer size (overlay2 DiffSize, archive.ChangesSize) counts a symlink's own size too.
      this.#stats.fileBytes += st.size;
      writeHeader(this.#out, header);
      return;
    }
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      header.type = st.isCharacterDevice() ? TYPE.char : TYPE.block;
      header.devmajor = deviceMajor(st.rdev);
      header.devminor = deviceMinor(st.rdev);
      writeHeader(this.#out, header);
      return;
    }
    if (st.isFIFO()) {
      header.type = TYPE.fifo;
      writeHeader(this.#out, header);
    }
    // sockets: not archivable, Docker skips them too
  }

  /** Exactly `size` bytes of the file (the size in its header): a file growing meanwhile must not break the tar. */
  *#body(path: string, size: number): Walk {
    const fd = openSync(path, 'r');
    try {
      let done = 0;
      while (done < size) {
        const r = this.#out.room(size - done);
        const n = readSync(fd, r.buf, r.off, r.len, done);
        if (n === 0) throw new Error(`${path}: shrank from ${size} to ${done} bytes while being archived`);
        this.#out.advance(n);
        done += n;
        // A large body: let the pump flush and honour back-pressure between chunks.
        if (done < size && this.#out.full) yield undefined;
      }
    } finally {
      closeSync(fd);
    }
    this.#out.pad(size);
  }

  #xattrs(reader: XattrReader, path: string): { pax?: Record<string, string>; opaque: boolean } {
    let names: string[];
    try {
      names = reader.list(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOTSUP') return { opaque: false };
      throw err;
    }
    if (names.length === 0) return { opaque: false };
    let pax: Record<string, string> | undefined;
    let opaque = false;
    for (const name of sortedNames(names)) {
      const value = reader.get(path, name);
      if (value === null) continue;
      if (name.startsWith(OVERLAY_XATTR_PREFIX)) {
        if (name === OVERLAY_OPAQUE_XATTR && value.toString() === 'y') opaque = true;
        continue;
      }
      // PAX values are UTF-8 text; a binary value could not round-trip.
      const text = value.toString('utf8');
      if (!Buffer.from(text, 'utf8').equals(value)) continue;
      (pax ??= {})[`SCHILY.xattr.${name}`] = text;
    }
    return pax ? { pax, opaque } : { opaque };
  }
}

/** Names in byte order (plain string order is the same for ASCII names). */
function sortedNames(names: string[]): string[] {
  return names.every(isAscii) ? names.sort() : names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** glibc's gnu_dev_major/minor on the 64-bit dev_t Node reports as a number. */
function deviceMajor(rdev: number): number {
  return ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
}

function deviceMinor(rdev: number): number {
  return (rdev & 0xff) | ((rdev >>> 12) & 0xfff00);
}
