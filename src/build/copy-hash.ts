/**
 * The source hashes Docker's legacy builder writes into a COPY/ADD's history entry
 * (`COPY file:<hash> in /dst `, `dir:<hash>`, `multi:<hash>`), computed the same way so that
 * `docker history` shows the same strings for the same context (checked against dockerd 20.10):
 *
 * - a file's hash is tarsum v1 (a symlink's: its target's) of one entry: sha256 over the header fields name, mode, uid, gid,
 *   size, typeflag, linkname, uname, gname, devmajor, devminor (each written as key + value, no
 *   mtime), then the file's bytes (moby pkg/tarsum `v1TarHeaderSelect`, builder/remotecontext);
 * - a directory's: `dir:` + sha256 of the sorted hashes of everything under it (itself included,
 *   unless it is the context root), joined by "," (moby builder/dockerfile/copy.go `walkSource`);
 * - several sources: `multi:` + sha256 of their `file:…`/`dir:…` strings in order, joined by ",".
 *
 * Context entries are hashed with the header the client sent: permission bits only, uid/gid as
 * sent (the docker CLI and hako send 0), no user names. Entries of an image (`COPY --from`) are
 * hashed as dockerd's lazy source does: the mode with its file-type bits and the owner's names
 * looked up on the daemon's host.
 */
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import { lstat, readFile, readlink } from 'node:fs/promises';
import { join, posix, relative } from 'node:path';
import { resolveInRoot } from '../storage/index.js';

export type EntryStyle = 'context' | 'image';

/** tarsum v1 of one entry whose tar name is `name` (a directory's gets a trailing "/"). */
export async function entrySum(abs: string, name: string, st: Stats, style: EntryStyle): Promise<string> {
  const type = st.isDirectory() ? '5' : st.isSymbolicLink() ? '2' : st.isFile() ? '0' : st.isFIFO() ? '6' : st.isCharacterDevice() ? '3' : st.isBlockDevice() ? '4' : '0';
  const link = st.isSymbolicLink() ? await readlink(abs) : '';
  const mode = style === 'context' ? st.mode & 0o7777 : st.mode;
  const names = style === 'image' ? await hostNames() : null;
  const fields: Array<[string, string | number]> = [
    ['name', st.isDirectory() && !name.endsWith('/') ? `${name}/` : name],
    ['mode', mode],
    ['uid', st.uid],
    ['gid', st.gid],
    ['size', st.isFile() ? st.size : 0],
    ['typeflag', type],
    ['linkname', link],
    ['uname', names?.users.get(st.uid) ?? ''],
    ['gname', names?.groups.get(st.gid) ?? ''],
    ['devmajor', 0],
    ['devminor', 0],
  ];
  const h = createHash('sha256');
  for (const [k, v] of fields) h.update(`${k}${v}`);
  if (st.isFile() && st.size > 0) {
    // Small files in one synchronous read: a stream per file costs several thread-pool round trips (bench/build).
    if (st.size <= 1 << 20) h.update(readFileSync(abs));
    else for await (const chunk of createReadStream(abs)) h.update(chunk as Buffer);
  }
  return h.digest('hex');
}

/**
 * One source's hash: `file:<sum>` for a file or symlink, `dir:<…>` for a directory. `entries`
 * lists the paths under `rel` (relative to `root`, `rel` itself included) that the copy takes;
 * `sums` (optional) caches sums already computed, by path.
 */
export async function sourceHash(root: string, rel: string, entries: readonly string[], style: EntryStyle, sums?: Map<string, string>): Promise<string> {
  const sumOf = async (p: string): Promise<string> => {
    const known = sums?.get(p);
    if (known !== undefined) return known;
    const abs = join(root, p);
    const st = await lstat(abs);
    let s: string;
    if (st.isSymbolicLink()) {
      // dockerd hashes what a symlink points to (followed inside the root), not the link itself;
      // a dangling one hashes as its path (moby remotecontext `Hash`).
      const target = await resolveInRoot(root, p);
      s = await lstat(target).then((t) => !t.isSymbolicLink(), () => false) ? await sumOf(relative(root, target) || '.') : p;
    } else s = await entrySum(abs, p, st, style);
    sums?.set(p, s);
    return s;
  };
  const st = await lstat(join(root, rel));
  if (!st.isDirectory()) return `file:${await sumOf(rel)}`;
  const subs: string[] = [];
  for (const p of entries) if (p !== '.' && p !== '') subs.push(await sumOf(p));
  return `dir:${sha256(subs.sort().join(','))}`;
}

/** Several sources' hashes as one: the single one itself, or `multi:…`. */
export function combinedHash(hashes: readonly string[]): string {
  return hashes.length === 1 ? hashes[0] as string : `multi:${sha256(hashes.join(','))}`;
}

/** Every path under `rel` in `root` (itself first, then depth-first in name order). */
export async function walkEntries(root: string, rel: string): Promise<string[]> {
  const out: string[] = [];
  // Synchronous calls: one awaited lstat per entry is a thread-pool round trip each (bench/build).
  const walk = (p: string): void => {
    out.push(p);
    const st = lstatSync(join(root, p));
    if (!st.isDirectory()) return;
    for (const name of readdirSync(join(root, p)).sort()) walk(p === '.' || p === '' ? name : posix.join(p, name));
  };
  walk(rel);
  return out;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

let names: Promise<{ users: Map<number, string>; groups: Map<number, string> }> | null = null;

/** uid/gid -> name from the host's /etc/passwd and /etc/group (Go's os/user, as tar.FileInfoHeader uses). */
function hostNames(): Promise<{ users: Map<number, string>; groups: Map<number, string> }> {
  const table = async (file: string): Promise<Map<number, string>> => {
    const m = new Map<number, string>();
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      const f = line.split(':');
      if (f.length >= 3 && /^\d+$/.test(f[2] as string) && !m.has(Number(f[2]))) m.set(Number(f[2]), f[0] as string);
    }
    return m;
  };
  names ??= Promise.all([table('/etc/passwd'), table('/etc/group')]).then(([users, groups]) => ({ users, groups }));
  return names;
}
