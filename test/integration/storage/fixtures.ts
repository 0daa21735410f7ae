/**
 * Helpers for the storage tests: tars built entry by entry (so hostile ones are easy to write),
 * temp dirs that are always removed, and a snapshot of a tree to compare two trees by.
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import * as tar from 'tar-stream';
import { native } from '../../../src/native/index.js';

export interface TarEntry {
  name: string;
  type?: 'file' | 'link' | 'symlink' | 'directory' | 'block-device' | 'character-device' | 'fifo';
  content?: string | Buffer;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

export const EPOCH_2001 = new Date('2001-09-09T01:46:40Z');

/** The bytes of a tar holding `entries` in that order. */
export async function tarOf(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const done = buffer(Readable.from(pack as AsyncIterable<Buffer>));
  for (const e of entries) {
    const type = e.type ?? 'file';
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? EPOCH_2001,
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
      ...(e.devmajor !== undefined ? { devmajor: e.devmajor, devminor: e.devminor ?? 0 } : {}),
      ...(e.pax ? { pax: e.pax } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (type === 'file') pack.entry(header, Buffer.from(e.content ?? ''), cb);
      else pack.entry(header, cb);
    });
  }
  pack.finalize();
  return done;
}

export function streamOf(data: Buffer): Readable {
  return Readable.from([data]);
}

export function sha256(data: Buffer): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

export { withTempDir } from '../../support/temp-dir.js';

export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * One line per entry of a tree: path, kind, mode, owner, and content digest / link target /
 * device numbers / user xattrs. Two trees with the same lines look the same to a container.
 */
export async function describeTree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = join(root, r);
      const st = await lstat(p);
      let what: string;
      if (st.isFile()) what = `file ${sha256(await readFile(p)).slice(7, 19)}`;
      else if (st.isSymbolicLink()) what = `symlink ${await readlink(p)}`;
      else if (st.isDirectory()) what = 'dir';
      else if (st.isCharacterDevice()) what = `char ${st.rdev}`;
      else if (st.isBlockDevice()) what = `block ${st.rdev}`;
      else if (st.isFIFO()) what = 'fifo';
      else what = 'other';
      const xattrs = native().llistxattr(p).filter((x) => x.startsWith('user.')).sort()
        .map((x) => `${x}=${native().lgetxattr(p, x)?.toString()}`).join(',');
      const mode = st.isSymbolicLink() ? '' : (st.mode & 0o7777).toString(8);
      out.push(`${r} ${what} ${mode} ${st.uid}:${st.gid} ${xattrs}`.trimEnd());
      if (st.isDirectory()) await walk(r);
    }
  };
  await walk('');
  return out;
}
