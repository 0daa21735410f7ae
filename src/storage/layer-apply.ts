/**
 * Applies a layer tar (gzip or plain) onto a directory, streaming, and returns its diffID (the
 * sha256 of the uncompressed tar, OCI image-spec config.md#layer-diffid) and unpacked size.
 *
 * Two modes for whiteouts (OCI image-spec layer.md#whiteouts):
 * - 'overlay': the directory is one overlay lowerdir of its own; `.wh.name` becomes the char 0/0
 *   device `name` and `.wh..wh..opq` sets trusted.overlay.opaque=y on its directory;
 * - 'flatten': the tar is applied onto an existing tree; `.wh.name` removes `name` and an opaque
 *   marker removes what was in its directory before this tar.
 *
 * Every path is checked (./paths.ts): an entry that climbs out is refused and writes never go
 * through a symlink to outside the target. Directory times are set after their content.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, readdir, rm, symlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { InvalidArgument, isHakoError } from '../errdefs/index.js';
import { uncompressed } from './decompress.js';
import { baseOf, cleanEntryPath, parentOf, resolveInRoot } from './paths.js';
import { requireNative } from './sys.js';
import { OVERLAY_OPAQUE_XATTR, OVERLAY_XATTR_PREFIX, tarOwner, WHITEOUT_META_PREFIX, WHITEOUT_OPAQUE, WHITEOUT_PREFIX } from '../archive/index.js';

export type ApplyMode = 'overlay' | 'flatten';

export interface ApplyOptions {
  mode: ApplyMode;
  signal?: AbortSignal;
  /** Owner translation of every entry (userns-remap: container ids to host ids). */
  mapIds?: IdMapper;
  /**
   * docker cp's `noOverwriteDirNonDir` (moby's TarOptions.NoOverwriteDirNonDir): an entry may not
   * replace an existing directory by a non-directory, nor a non-directory by a directory; the
   * copy fails with docker's message instead. `shownAs` is the target directory's path as the
   * user knows it (the container path), for that message.
   */
  noOverwriteDirNonDir?: { shownAs: string };
}

/** (uid, gid) -> (uid, gid), for userns-remap's shifted ownership. */
export type IdMapper = (uid: number, gid: number) => [number, number];

export interface ApplyResult {
  /** sha256 of the uncompressed tar stream. */
  diffId: string;
  /** Bytes of regular-file content unpacked. */
  size: number;
}

/** Entry headers as tar-stream decodes them, with the PAX records it keeps. */
type Header = Omit<tar.Header, 'pax'> & { pax?: Record<string, string> | null };
/** An entry's content stream (a streamx Readable). */
type Entry = AsyncIterable<Buffer> & { resume(): unknown };

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

/**
 * Applies `input` onto `targetDir` (which must exist). Throws on a hostile or broken tar, leaving
 * whatever was applied so far: the caller removes a partial directory.
 */
export async function applyLayerTar(input: Readable, targetDir: string, opts: ApplyOptions): Promise<ApplyResult> {
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  const source = await uncompressed(input);
  const extract = tar.extract();
  const applier = new Applier(targetDir, opts.mode, opts.noOverwriteDirNonDir);
  const piping = pipeline(source, tap, extract, opts.signal ? { signal: opts.signal } : {});
  piping.catch(() => {}); // its error also ends the entry loop below, which throws it
  try {
    for await (const entry of extract) {
      const header = entry.header as Header;
      [header.uid, header.gid] = tarOwner(header); // PAX uid/gid records override the ustar fields
      if (opts.mapIds) [header.uid, header.gid] = opts.mapIds(header.uid ?? 0, header.gid ?? 0);
      await applier.apply(header, entry as unknown as Entry);
    }
    await piping;
  } catch (err) {
    source.destroy();
    throw asLayerError(err);
  }
  await applier.finish();
  return { diffId: 'sha256:' + hash.digest('hex'), size: applier.size };
}

class Applier {
  size = 0;
  #root: string;
  #mode: ApplyMode;
  /** Root-relative paths known to be real directories at that same path: no resolving needed. */
  #knownDirs = new Set<string>();
  /** Host paths this tar created, which an opaque marker in 'flatten' mode must keep. */
  #created = new Set<string>();
  #dirTimes: Array<{ path: string; atime: Date; mtime: Date }> = [];
  #noOverwriteDirNonDir: { shownAs: string } | undefined;

  constructor(root: string, mode: ApplyMode, noOverwriteDirNonDir?: { shownAs: string }) {
    this.#root = root;
    this.#mode = mode;
    this.#noOverwriteDirNonDir = noOverwriteDirNonDir;
  }

  async apply(header: Header, entry: Entry): Promise<void> {
    try {
      await this.#apply(header, entry);
    } finally {
      entry.resume(); // an entry not piped anywhere must still be drained for the next one
    }
  }

  async #apply(header: Header, entry: Entry): Promise<void> {
    const rel = cleanEntryPath(header.name);
    if (rel === '') return; // the root itself: Docker keeps the target's own mode and owner
    const base = baseOf(rel);
    if (base.startsWith(WHITEOUT_PREFIX)) return this.#whiteout(header, rel);

    const parent = await this.#parentDir(parentOf(rel), header.name);
    const path = join(parent, base);
    const existing = await lstatOrNull(path);
    const type = header.type ?? 'file';
    if (existing && this.#noOverwriteDirNonDir && existing.isDirectory() !== (type === 'directory')) {
      const dest = this.#noOverwriteDirNonDir.shownAs;
      const shown = JSON.stringify(posix.join(dest, rel));
      throw new InvalidArgument(existing.isDirectory()
        ? `cannot overwrite directory ${shown} with non-directory ${JSON.stringify(dest)}`
        : `cannot overwrite non-directory ${shown} with directory ${JSON.stringify(dest)}`);
    }
    if (existing && !(existing.isDirectory() && type === 'directory')) {
      await rm(path, { recursive: true, force: true });
      this.#knownDirs.clear();
    }
    switch (type) {
      case 'file':
      case 'contiguous-file':
        await pipeline(entry, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
        this.size += header.size ?? 0;
        break;
      case 'directory':
        if (!existing?.isDirectory()) await mkdir(path, { mode: 0o700 });
        if (parent === join(this.#root, parentOf(rel))) this.#knownDirs.add(rel);
        break;
      case 'symlink':
        await symlink(header.linkname ?? '', path);
        // A symlink's own size counts, as in docker's layer sizes and archive's tar writer's (the same layer, however it came).
        this.size += Buffer.byteLength(header.linkname ?? '');
        break;
      case 'link':
        await link(await this.#linkTarget(header), path);
        this.#created.add(path);
        return; // a hard link shares its target's inode, owner, mode and times
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        const kind = type === 'fifo' ? S_IFIFO : type === 'block-device' ? S_IFBLK : S_IFCHR;
        requireNative(`tar entry "${header.name}" (${type})`).mknod(path, kind | 0o600, header.devmajor ?? 0, header.devminor ?? 0);
        break;
      }
      default:
        throw new InvalidArgument(`tar entry "${header.name}": unsupported entry type ${String(type)}`);
    }
    this.#created.add(path);
    await this.#setMetadata(path, header, type);
  }

  /** Owner, then mode (chown clears setuid), then xattrs (chown clears security.capability), then times. */
  async #setMetadata(path: string, header: Header, type: string): Promise<void> {
    await lchown(path, header.uid ?? 0, header.gid ?? 0);
    if (type !== 'symlink') await chmod(path, (header.mode ?? 0o644) & 0o7777);
    const xattrs = xattrsOf(header);
    if (xattrs.length > 0) {
      const addon = requireNative(`tar entry "${header.name}" (xattrs)`);
      for (const [name, value] of xattrs) addon.lsetxattr(path, name, value);
    }
    const mtime = header.mtime ?? new Date(0);
    const atime = paxTime(header.pax?.atime) ?? mtime;
    if (type === 'directory') this.#dirTimes.push({ path, atime, mtime });
    else await lutimes(path, atime, mtime);
  }

  async #whiteout(header: Header, rel: string): Promise<void> {
    const base = baseOf(rel);
    const dirRel = parentOf(rel);
    if (base === WHITEOUT_OPAQUE) {
      if (this.#mode === 'overlay') {
        const dir = await this.#parentDir(dirRel, header.name);
        requireNative('an opaque whiteout').lsetxattr(dir, OVERLAY_OPAQUE_XATTR, Buffer.from('y'));
        return;
      }
      const dir = await resolveInRoot(this.#root, dirRel);
      for (const name of await readdirOrEmpty(dir)) {
        const path = join(dir, name);
        if (!this.#created.has(path)) await rm(path, { recursive: true, force: true });
      }
      this.#knownDirs.clear();
      return;
    }
    if (base.startsWith(WHITEOUT_META_PREFIX)) return; // aufs metadata (.wh..wh.plnk): not content
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === '' || name === '.' || name === '..') {
      throw new InvalidArgument(`tar entry "${header.name}": a whiteout must name an entry`);
    }
    if (this.#mode === 'flatten') {
      const dir = await resolveInRoot(this.#root, dirRel);
      await rm(join(dir, name), { recursive: true, force: true });
      this.#knownDirs.clear();
      return;
    }
    const path = join(await this.#parentDir(dirRel, header.name), name);
    if (await lstatOrNull(path)) {
      await rm(path, { recursive: true, force: true });
      this.#knownDirs.clear();
    }
    requireNative(`whiteout "${header.name}"`).mknod(path, S_IFCHR, 0, 0);
    await lchown(path, header.uid ?? 0, header.gid ?? 0);
    this.#created.add(path);
  }

  /** The host directory for a root-relative parent path, created (0755, as Docker does) if missing. */
  async #parentDir(dirRel: string, entryName: string): Promise<string> {
    if (dirRel === '') return this.#root;
    const literal = join(this.#root, dirRel);
    if (this.#knownDirs.has(dirRel)) return literal;
    const resolved = await resolveInRoot(this.#root, dirRel);
    let first: string | undefined;
    try {
      first = await mkdir(resolved, { recursive: true, mode: 0o755 });
    } catch (err) {
      throw new InvalidArgument(`tar entry "${entryName}": its parent "${dirRel}" is not a directory`, { cause: err });
    }
    if (first !== undefined) {
      // Directories made here are this tar's own, like the ones it lists.
      for (let dir = resolved; dir.length >= first.length; dir = join(dir, '..')) this.#created.add(dir);
    }
    if (resolved === literal) this.#knownDirs.add(dirRel);
    return resolved;
  }

  async #linkTarget(header: Header): Promise<string> {
    const linkname = header.linkname ?? '';
    let rel: string;
    try {
      rel = cleanEntryPath(linkname);
    } catch {
      throw new InvalidArgument(`tar entry "${header.name}": hard link target "${linkname}" is outside the target directory; refusing a hostile or broken archive`);
    }
    if (rel === '') throw new InvalidArgument(`tar entry "${header.name}": hard link to the root directory`);
    return join(await resolveInRoot(this.#root, parentOf(rel)), baseOf(rel));
  }

  /** Directory times last, deepest first, since creating entries inside changed them. */
  async finish(): Promise<void> {
    for (let i = this.#dirTimes.length - 1; i >= 0; i--) {
      const { path, atime, mtime } = this.#dirTimes[i] as { path: string; atime: Date; mtime: Date };
      await lutimes(path, atime, mtime);
    }
  }
}

/**
 * Xattrs from PAX records: `SCHILY.xattr.<name>=<value>` (GNU tar, Go's archive/tar) and
 * `LIBARCHIVE.xattr.<url-encoded name>=<base64 value>` (bsdtar). overlay's own trusted.overlay.*
 * are never taken from a tar: a layer expresses deletions with whiteout entries only.
 *
 * Known limit: tar-stream decodes PAX values as UTF-8, so a binary SCHILY value (e.g.
 * security.capability) arrives damaged; such values are skipped rather than set wrong.
 */
function xattrsOf(header: Header): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  for (const [key, value] of Object.entries(header.pax ?? {})) {
    let name: string;
    let data: Buffer;
    if (key.startsWith('SCHILY.xattr.')) {
      if (value.includes('\uFFFD')) continue;
      name = key.slice('SCHILY.xattr.'.length);
      data = Buffer.from(value, 'utf8');
    } else if (key.startsWith('LIBARCHIVE.xattr.')) {
      name = decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length));
      data = Buffer.from(value, 'base64');
    } else {
      continue;
    }
    if (name === '' || name.startsWith(OVERLAY_XATTR_PREFIX)) continue;
    out.push([name, data]);
  }
  return out;
}

/** A broken gzip or tar stream is a bad input, not an engine failure: say so, keep the cause. */
function asLayerError(err: unknown): unknown {
  if (isHakoError(err)) return err;
  const e = err as NodeJS.ErrnoException;
  if (e?.code?.startsWith('Z_') || /tar/i.test(e?.message ?? '')) {
    return new InvalidArgument(`layer is not a valid tar or gzip stream: ${e.message}`, { cause: err });
  }
  return err;
}

function paxTime(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) ? new Date(seconds * 1000) : undefined;
}

async function lstatOrNull(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}
