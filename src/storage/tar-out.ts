/**
 * Tars a directory tree, streaming with back-pressure: modes, owners, mtimes, symlinks, hard links
 * (one inode is written once, then linked by name), devices, fifos and xattrs (PAX
 * SCHILY.xattr.*). Sockets are skipped, as Docker does. Names are sorted so the same tree always
 * gives the same tar, hence the same diffID.
 *
 * In layer form the tree is an overlay upper or lower dir: a char 0/0 device becomes `.wh.<name>`
 * and a directory with trusted.overlay.opaque=y gets a `.wh..wh..opq` entry (OCI image-spec
 * layer.md#whiteouts).
 */
import { createReadStream, type Stats } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { requireNative, tryNative } from './sys.js';
import { isOverlayWhiteout, OVERLAY_OPAQUE_XATTR, OVERLAY_XATTR_PREFIX, WHITEOUT_OPAQUE, WHITEOUT_PREFIX } from './whiteouts.js';

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
}

type HeaderArgument = Parameters<tar.Pack['entry']>[0];

/** Files up to this size are read whole rather than streamed. */
const SMALL_FILE = 64 * 1024;

/** A tar of `dir` (a directory, or with `includeRoot` any file) as a Node Readable. */
export function tarDirectory(dir: string, opts: TarDirectoryOptions = {}): Readable {
  return packTree(dir, { ...opts, layerForm: false });
}

/**
 * A tar of an overlay layer dir (an upper dir, or a snapshot's diff dir) in image-layer form:
 * whiteout devices become `.wh.<name>` entries and opaque directories get `.wh..wh..opq`.
 */
export function tarLayerDir(dir: string, opts: LayerTarOptions = {}): Readable {
  return packTree(dir, { ...opts, layerForm: true });
}

export interface LayerTarOptions {
  /**
   * Asked for each whiteout (by its root-relative path); a whiteout answered false is left out.
   * Default: every whiteout is written.
   */
  keepWhiteout?: (rel: string) => Promise<boolean>;
  signal?: AbortSignal;
  mapIds?: (uid: number, gid: number) => [number, number];
}

interface PackOptions extends TarDirectoryOptions, LayerTarOptions {
  layerForm: boolean;
}

function packTree(dir: string, opts: PackOptions): Readable {
  const pack = tar.pack();
  const flow = new FlowGate();
  // tar-stream's pack is a streamx stream and queues header-only entries without limit; callers
  // get a Node Readable, and the walk waits whenever that one's buffer is full.
  const out = new Readable({
    read() {
      pack.resume();
      flow.open();
    },
    destroy(err, cb) {
      pack.destroy(err ?? undefined);
      flow.open();
      cb(err);
    },
  });
  pack.on('data', (chunk: unknown) => {
    if (!out.push(chunk as Buffer)) {
      pack.pause();
      flow.close();
    }
  });
  pack.on('end', () => out.push(null));
  pack.on('error', (err: Error) => out.destroy(err));
  const onAbort = () => out.destroy(opts.signal?.reason as Error);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const writer = new TreeWriter(pack, { layerForm: opts.layerForm, keepWhiteout: opts.keepWhiteout, flow, mapIds: opts.mapIds });
  (async () => {
    opts.signal?.throwIfAborted();
    const st = await lstat(dir);
    if (opts.includeRoot) {
      const rootName = (opts.rebaseName ?? basename(dir)).replace(/^\/+|\/+$/g, '');
      await writer.entry(dir, rootName, st);
      if (st.isDirectory()) await writer.walk(dir, rootName + '/');
    } else if (st.isDirectory()) {
      await writer.walk(dir, '');
    } else {
      await writer.entry(dir, basename(dir), st);
    }
    pack.finalize();
  })().then(
    () => opts.signal?.removeEventListener('abort', onAbort),
    (err: unknown) => {
      opts.signal?.removeEventListener('abort', onAbort);
      out.destroy(err as Error);
    },
  );
  return out;
}

/** Lets the walk continue only while the consumer keeps up. */
class FlowGate {
  #waiters: Array<() => void> = [];
  #closed = false;

  close(): void {
    this.#closed = true;
  }

  open(): void {
    this.#closed = false;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  wait(): Promise<void> {
    return this.#closed ? new Promise((resolve) => this.#waiters.push(resolve)) : Promise.resolve();
  }
}

interface WriterOptions {
  layerForm: boolean;
  keepWhiteout: ((rel: string) => Promise<boolean>) | undefined;
  mapIds?: ((uid: number, gid: number) => [number, number]) | undefined;
  flow: FlowGate;
}

class TreeWriter {
  #pack: tar.Pack;
  #layerForm: boolean;
  /** dev:ino of files with several links -> the name they were first written under. */
  #inodes = new Map<string, string>();
  #keepWhiteout: ((rel: string) => Promise<boolean>) | undefined;
  #mapIds: ((uid: number, gid: number) => [number, number]) | undefined;
  #flow: FlowGate;

  constructor(pack: tar.Pack, opts: WriterOptions) {
    this.#pack = pack;
    this.#layerForm = opts.layerForm;
    this.#keepWhiteout = opts.keepWhiteout;
    this.#mapIds = opts.mapIds;
    this.#flow = opts.flow;
  }

  async walk(dir: string, prefix: string): Promise<void> {
    const names = (await readdir(dir)).sort(byBytes);
    for (const name of names) {
      if (this.#pack.destroyed) return;
      const path = join(dir, name);
      const st = await lstat(path);
      await this.entry(path, prefix + name, st);
      if (st.isDirectory()) await this.walk(path, `${prefix}${name}/`);
    }
  }

  /** Writes the entry (without descending into a directory). */
  async entry(path: string, name: string, st: Stats): Promise<void> {
    await this.#flow.wait();
    const header: HeaderArgument = {
      name,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      mtime: st.mtime,
      size: 0,
    };
    if (this.#mapIds) [header.uid, header.gid] = this.#mapIds(st.uid, st.gid);
    if (this.#layerForm && isOverlayWhiteout(st)) {
      if (this.#keepWhiteout && !(await this.#keepWhiteout(name))) return;
      const slash = name.lastIndexOf('/');
      header.name = name.slice(0, slash + 1) + WHITEOUT_PREFIX + name.slice(slash + 1);
      header.type = 'file';
      return this.#write(header, Buffer.alloc(0));
    }
    const xattrs = this.#xattrs(path);
    if (xattrs.pax) header.pax = xattrs.pax;

    if (st.isDirectory()) {
      header.type = 'directory';
      header.name = name === '' ? './' : name + '/';
      await this.#write(header);
      if (xattrs.opaque) {
        await this.#write({ ...header, pax: undefined, name: header.name + WHITEOUT_OPAQUE, type: 'file', size: 0 }, Buffer.alloc(0));
      }
      return;
    }
    if (st.isFile()) {
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = this.#inodes.get(key);
        if (first !== undefined) return this.#write({ ...header, type: 'link', linkname: first, pax: undefined });
        this.#inodes.set(key, name);
      }
      header.type = 'file';
      header.size = st.size;
      if (st.size === 0) return this.#write(header, Buffer.alloc(0));
      if (st.size <= SMALL_FILE) {
        // One read instead of a stream per small file (a layer is mostly small files).
        const data = await readFile(path);
        if (data.length < st.size) throw new Error(`${path}: shrank from ${st.size} to ${data.length} bytes while being archived`);
        return this.#write(header, data.length === st.size ? data : data.subarray(0, st.size));
      }
      const sink = this.#pack.entry(header);
      // Read exactly the size in the header: a file growing meanwhile must not break the tar.
      await pipeline(createReadStream(path, { start: 0, end: st.size - 1 }), sink as unknown as NodeJS.WritableStream);
      return;
    }
    if (st.isSymbolicLink()) {
      header.type = 'symlink';
      header.linkname = await readlink(path);
      return this.#write(header);
    }
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      header.type = st.isCharacterDevice() ? 'character-device' : 'block-device';
      header.devmajor = deviceMajor(st.rdev);
      header.devminor = deviceMinor(st.rdev);
      return this.#write(header);
    }
    if (st.isFIFO()) {
      header.type = 'fifo';
      return this.#write(header);
    }
    // sockets: not archivable, Docker skips them too
  }

  #write(header: HeaderArgument, content?: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (content) this.#pack.entry(header, content, cb);
      else this.#pack.entry(header, cb);
    });
  }

  #xattrs(path: string): { pax?: Record<string, string>; opaque: boolean } {
    const addon = this.#layerForm ? requireNative('tarring a layer (opaque directories are xattrs)') : tryNative();
    if (!addon) return { opaque: false };
    let names: string[];
    try {
      names = addon.llistxattr(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOTSUP') return { opaque: false };
      throw err;
    }
    let pax: Record<string, string> | undefined;
    let opaque = false;
    for (const name of names.sort(byBytes)) {
      const value = addon.lgetxattr(path, name);
      if (value === null) continue;
      if (name.startsWith(OVERLAY_XATTR_PREFIX)) {
        if (name === OVERLAY_OPAQUE_XATTR && value.toString() === 'y') opaque = true;
        continue;
      }
      // tar-stream writes PAX values as UTF-8 text; a binary value could not round-trip.
      const text = value.toString('utf8');
      if (!Buffer.from(text, 'utf8').equals(value)) continue;
      (pax ??= {})[`SCHILY.xattr.${name}`] = text;
    }
    return pax ? { pax, opaque } : { opaque };
  }
}

function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** glibc's gnu_dev_major/minor on the 64-bit dev_t Node reports as a number. */
function deviceMajor(rdev: number): number {
  return ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
}

function deviceMinor(rdev: number): number {
  return (rdev & 0xff) | ((rdev >>> 12) & 0xfff00);
}
