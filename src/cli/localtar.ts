/**
 * Tars for `cp`, made and unpacked on the client like docker's pkg/archive: a local path packed
 * with its top entry renamed (so `cp a ctr:/b` lands as /b), and an archive from the container
 * unpacked under a directory with its top entry renamed. Entries that climb out with `..` or
 * through absolute paths are refused.
 */
import { lstat, mkdir, readdir, readlink, symlink, link, utimes, lchown, chmod, rm, stat } from 'node:fs/promises';
import { createReadStream, createWriteStream } from 'node:fs';
import { join, dirname, normalize, sep, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { tarOwner } from '../archive/index.js';

/** Packs `src` (file, dir or symlink) as entries named `rename/...`. */
export function packPath(src: string, rename: string, opts: { followLink?: boolean } = {}): Readable {
  const pack = tar.pack();
  const add = async (path: string, name: string, top: boolean): Promise<void> => {
    const st = top && opts.followLink ? await stat(path) : await lstat(path);
    const base = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
    if (st.isDirectory()) {
      await entry(pack, { ...base, name: `${name}/`, type: 'directory' });
      for (const child of (await readdir(path)).sort()) await add(join(path, child), `${name}/${child}`, false);
    } else if (st.isSymbolicLink()) {
      await entry(pack, { ...base, type: 'symlink', linkname: await readlink(path) });
    } else if (st.isFile()) {
      const w = pack.entry({ ...base, type: 'file', size: st.size });
      await pipeline(createReadStream(path), w as unknown as NodeJS.WritableStream);
    }
  };
  add(src, rename, true).then(() => pack.finalize(), (e: Error) => pack.destroy(e));
  // tar-stream's streams are streamx streams; they pipe like Node's.
  return pack as unknown as Readable;
}

function entry(pack: tar.Pack, header: Partial<tar.Header> & { name: string }): Promise<void> {
  return new Promise((res, rej) => {
    pack.entry(header, (err) => (err ? rej(err) : res()));
  });
}

/**
 * Unpacks `archive` into `destDir`; the first path component of every entry named `from` is
 * replaced by `to` ('' drops it: the contents land directly in destDir).
 */
export async function unpackInto(archive: Readable, destDir: string, from: string, to: string): Promise<void> {
  const root = resolve(destDir);
  const extract = tar.extract();
  const dirTimes: Array<[string, Date]> = [];
  const done = pipeline(archive, extract as unknown as NodeJS.WritableStream);
  // A failure below abandons the pipeline; its rejection is the same failure, not a second one.
  done.catch(() => {});
  try {
    await unpackEntries(extract, root, from, to, dirTimes);
  } catch (e) {
    archive.destroy();
    throw e;
  }
  await done;
  for (const [d, t] of dirTimes.reverse()) await utimes(d, t, t).catch(() => {});
}

async function unpackEntries(extract: tar.Extract, root: string, from: string, to: string, dirTimes: Array<[string, Date]>): Promise<void> {
  for await (const e of extract) {
    const h = e.header;
    let name = h.name.replace(/^\.?\//, '').replace(/\/$/, '');
    const first = name.split('/')[0];
    if (first === from) name = to === '' ? name.slice(from.length + 1) : to + name.slice(from.length);
    if (name === '') {
      e.resume();
      continue;
    }
    const target = resolve(root, normalize(name));
    if (target !== root && !target.startsWith(root + sep)) throw new Error(`invalid path in archive: ${h.name}`);
    await mkdir(dirname(target), { recursive: true });
    const mode = (h.mode ?? 0o644) & 0o7777;
    switch (h.type) {
      case 'directory':
        await mkdir(target, { recursive: true });
        await chmod(target, mode);
        e.resume();
        if (h.mtime) dirTimes.push([target, h.mtime]);
        break;
      case 'symlink':
        await rm(target, { force: true });
        await symlink(h.linkname ?? '', target);
        e.resume();
        break;
      case 'link': {
        let ln = (h.linkname ?? '').replace(/^\.?\//, '');
        const lfirst = ln.split('/')[0];
        if (lfirst === from) ln = to === '' ? ln.slice(from.length + 1) : to + ln.slice(from.length);
        await rm(target, { force: true });
        await link(resolve(root, normalize(ln)), target);
        e.resume();
        break;
      }
      case 'file': case 'contiguous-file': case undefined: case null:
        await rm(target, { force: true, recursive: false }).catch(() => {});
        await pipeline(e as unknown as Readable, createWriteStream(target, { mode }));
        await chmod(target, mode);
        break;
      default:
        e.resume();
        continue;
    }
    if (process.getuid?.() === 0) {
      const [uid, gid] = tarOwner(h); // PAX uid/gid records override the ustar fields
      await lchown(target, uid, gid).catch(() => {});
    }
    if (h.mtime && h.type !== 'symlink' && h.type !== 'directory') await utimes(target, h.mtime, h.mtime).catch(() => {});
  }
}

