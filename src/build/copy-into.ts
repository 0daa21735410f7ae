/**
 * Putting a COPY/ADD source into a step's root: where a name lands (docker's rules for a trailing
 * slash and several sources), copying a file or a tree with the step's owner and mode (hard links
 * where copy.ts may), `--chown` names from the image's /etc/passwd and /etc/group, `--parents`
 * destinations, symbolic `--chmod` after the copy, and which local files ADD extracts.
 */
import { open, chmod, copyFile, lchown, lstat, mkdir, readdir, readFile, readlink, rm, symlink } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { InvalidArgument } from '../errdefs/index.js';
import { resolveInRoot } from '../storage/index.js';
import type { BuildContext } from './context.js';
import { copyIntoFreshDir, type FreshCopyOptions } from './copy.js';

export interface CopyOpts {
  owner: { uid: number; gid: number };
  mode: number | undefined;
  destAbs: string;
  multi: boolean;
}

/** Where a single file named `name` lands: into dest when it is (or must be) a directory. */
export async function destFor(root: string, o: CopyOpts, name: string): Promise<string> {
  const dest = await resolveInRoot(root, o.destAbs);
  const st = await lstat(dest).catch(() => null);
  if (o.destAbs.endsWith('/') || o.multi || st?.isDirectory()) return resolveInRoot(root, posix.join(o.destAbs, name));
  return dest;
}

/**
 * Copies `src` (a directory's contents, or one file) to the destination inside `root`. Every
 * target path is resolved inside `root`, so a symlink in the image never leads out of it.
 */
export async function copyInto(root: string, src: string, isDir: boolean, name: string, o: CopyOpts, fromContext: boolean, ctx?: BuildContext, ctxRel?: string, linkFrom?: FreshCopyOptions['linkFrom']): Promise<void> {
  // Directories this copy made or found (the walk lists a directory before its contents).
  const made = new Set<string>();
  const place = async (from: string, to: string): Promise<void> => {
    const st = await lstat(from);
    const parent = posix.dirname(to);
    if (!made.has(parent)) {
      await mkdir(parent, { recursive: true, mode: 0o755 });
      made.add(parent);
    }
    if (st.isDirectory()) {
      const existing = await lstat(to).catch(() => null);
      if (existing && !existing.isDirectory()) await rm(to, { force: true });
      await mkdir(to, { recursive: true });
      made.add(to);
      await chmod(to, o.mode ?? st.mode & 0o7777);
    } else if (st.isSymbolicLink()) {
      await rm(to, { force: true, recursive: true });
      await symlink(await readlink(from), to);
    } else if (st.isFile()) {
      await rm(to, { force: true, recursive: true }).catch(() => undefined);
      await copyFile(from, to);
      // copyFile gives the new file the source's mode already.
      if (o.mode !== undefined) await chmod(to, o.mode);
    } else return; // devices, fifos and sockets are not copied
    // Docker: files from the context belong to root (or --chown); from another image they keep their owner unless --chown.
    const uid = fromContext || o.owner.uid !== 0 || o.owner.gid !== 0 ? o.owner.uid : st.uid;
    const gid = fromContext || o.owner.uid !== 0 || o.owner.gid !== 0 ? o.owner.gid : st.gid;
    await lchown(to, uid, gid);
    // The chown cleared a file's set-id bits: docker keeps them.
    if (st.isFile() && ((o.mode ?? st.mode) & 0o6000) !== 0) await chmod(to, o.mode ?? st.mode & 0o7777);
  };
  if (!isDir) {
    await place(src, await destFor(root, o, name));
    return;
  }
  const destDir = await resolveInRoot(root, o.destAbs);
  const fresh = !(await lstat(destDir).then(() => true, () => false));
  await mkdir(destDir, { recursive: true, mode: 0o755 });
  const rels = ctx && ctxRel !== undefined
    ? (await ctx.entries(ctxRel)).map((p) => (p === ctxRel ? '' : ctxRel === '.' ? p : p.slice(ctxRel.length + 1)))
    : null;
  if (fresh) {
    // Nothing below a directory this copy made can be in the way: the fast path (copy.ts). With
    // `linkFrom`, files are hard-linked, so the tree is made in the overlay's upper dir itself
    // (<dir>/diff beside <dir>/rootfs, as layers.mountRootfs makes them): nothing looks it up
    // through the mount before the step unmounts, and a later lookup finds it there.
    const target = linkFrom ? join(dirname(root), 'diff', posix.relative(root, destDir)) : destDir;
    return copyIntoFreshDir(src, target, rels, { mode: o.mode, linkFrom, ownerOf: (st) => (fromContext || o.owner.uid !== 0 || o.owner.gid !== 0 ? [o.owner.uid, o.owner.gid] : [st.uid, st.gid]) });
  }
  for (const rel of rels ?? await walkAll(src)) {
    if (rel === '') continue;
    await place(join(src, rel), await resolveInRoot(root, posix.join(o.destAbs, rel)));
  }
}

export async function walkAll(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of (await readdir(join(dir, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      out.push(r);
      if (e.isDirectory()) await walk(r);
    }
  };
  await walk('');
  return out;
}

/** `--chown=user[:group]` by name (the image's /etc/passwd and /etc/group) or number. */
export async function resolveOwner(root: string, spec: string): Promise<{ uid: number; gid: number }> {
  const [u = '', g] = spec.split(':');
  const table = async (file: string): Promise<string[][]> => {
    try {
      return (await readFile(await resolveInRoot(root, file), 'utf8')).split('\n').map((l) => l.split(':'));
    } catch {
      return [];
    }
  };
  let uid: number;
  let gid: number | undefined;
  if (/^\d+$/.test(u)) uid = Number(u);
  else {
    const row = (await table('/etc/passwd')).find((r) => r[0] === u);
    if (!row) throw new InvalidArgument(`unable to convert uid/gid chown string to host mapping: can't find uid for user ${u}: no such user: ${u}`);
    uid = Number(row[2]);
    gid = Number(row[3]);
  }
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const row = (await table('/etc/group')).find((r) => r[0] === g);
      if (!row) throw new InvalidArgument(`unable to convert uid/gid chown string to host mapping: can't find gid for group ${g}: no such group: ${g}`);
      gid = Number(row[2]);
    }
  }
  return { uid, gid: gid ?? uid };
}

/** A local tar ADD extracts: plain tar ("ustar" at 257) or gzip/bzip2/xz/zstd magic. */
export async function isArchive(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(262);
    const { bytesRead } = await fh.read(buf, 0, 262, 0);
    const b = buf.subarray(0, bytesRead);
    if (b[0] === 0x1f && b[1] === 0x8b) return true;
    if (b.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return true;
    return bytesRead >= 262 && b.subarray(257, 262).toString('latin1') === 'ustar';
  } finally {
    await fh.close();
  }
}

/** A `--parents` copy of a source whose path below its pivot is `keep`: a directory lands at dest/keep, a file in dest/dirname(keep). */
export function parentsOpts(o: CopyOpts, keep: string, isDir: boolean): CopyOpts {
  const sub = isDir ? keep : posix.dirname(keep);
  return { ...o, multi: true, destAbs: `${posix.join(o.destAbs, sub === '.' ? '' : sub).replace(/\/+$/, '')}/` };
}

/** `--chmod` in symbolic form, after the copy: each copied path gets `fn(mode, isDir)`; symlinks keep theirs. `rels`: a directory's entries, or null for one file named `name`. */
export async function chmodCopied(root: string, o: CopyOpts, name: string, rels: string[] | null, fn: (mode: number, isDir: boolean) => number): Promise<void> {
  const targets = rels === null ? [await destFor(root, o, name)] : await Promise.all(rels.map((r) => resolveInRoot(root, posix.join(o.destAbs, r))));
  for (const t of targets) {
    const st = await lstat(t);
    if (!st.isSymbolicLink()) await chmod(t, fn(st.mode, st.isDirectory()));
  }
}
