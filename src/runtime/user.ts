/**
 * `--user` resolution against the image's /etc/passwd and /etc/group, as Docker does it
 * (runc's libcontainer/user GetExecUser): `name`, `uid`, `name:group`, `uid:gid`; supplementary
 * groups are the groups that list the user, only when no group was given. The files are read
 * inside the rootfs with symlinks resolved as if the rootfs were `/`, so a hostile image whose
 * /etc/passwd links to the host's cannot make us read outside it.
 */
import { readFile } from 'node:fs/promises';
import { InvalidArgument } from '../errdefs/index.js';
import { resolveInRoot } from '../storage/index.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** The user's home from passwd, `/` when unknown (Docker's default HOME for unknown uids). */
  home: string;
}

async function readInRoot(root: string, path: string): Promise<string | null> {
  try {
    return await readFile(await resolveInRoot(root, path), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw err;
  }
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

function parseLines(text: string | null): string[][] {
  if (!text) return [];
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split(':'));
}

function parsePasswd(text: string | null): PasswdEntry[] {
  return parseLines(text).filter((f) => f.length >= 4).map((f) => ({
    name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/',
  })).filter((e) => Number.isInteger(e.uid) && Number.isInteger(e.gid));
}

function parseGroup(text: string | null): GroupEntry[] {
  return parseLines(text).filter((f) => f.length >= 3).map((f) => ({
    name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean),
  })).filter((e) => Number.isInteger(e.gid));
}

const NUMERIC = /^\d+$/;

function toId(value: string, what: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff - 1) {
    throw new InvalidArgument(`invalid ${what} "${value}": must be between 0 and 4294967294`);
  }
  return n;
}

/**
 * Resolves a Docker `--user` value (`""` means root) inside the image at `rootfs`.
 * `extraGroups` are `--group-add` values (names or numbers), appended to the supplementary list.
 */
export async function resolveUser(rootfs: string, userSpec: string, extraGroups: string[] = []): Promise<ResolvedUser> {
  const spec = userSpec.trim();
  const [userPart = '', groupPart] = spec === '' ? ['0'] : spec.split(':', 2);
  const passwd = parsePasswd(await readInRoot(rootfs, '/etc/passwd'));
  const groups = parseGroup(await readInRoot(rootfs, '/etc/group'));

  let uid: number;
  let gid = 0;
  let home = '/';
  let userName: string | undefined;
  const byName = !NUMERIC.test(userPart) ? passwd.find((e) => e.name === userPart) : undefined;
  if (!NUMERIC.test(userPart)) {
    if (!byName) throw new InvalidArgument(`unable to find user ${userPart}: no matching entries in passwd file`);
    uid = byName.uid;
    gid = byName.gid;
    home = byName.home;
    userName = byName.name;
  } else {
    uid = toId(userPart, 'user id');
    const entry = passwd.find((e) => e.uid === uid);
    if (entry) {
      gid = entry.gid;
      home = entry.home;
      userName = entry.name;
    }
  }

  let additionalGids: number[] = [];
  if (groupPart !== undefined && groupPart !== '') {
    gid = resolveGroup(groups, groupPart);
  } else if (userName !== undefined) {
    additionalGids = groups.filter((g) => g.members.includes(userName!)).map((g) => g.gid);
  }
  for (const g of extraGroups) {
    const id = resolveGroup(groups, g);
    if (!additionalGids.includes(id)) additionalGids.push(id);
  }
  return { uid, gid, additionalGids, home };
}

function resolveGroup(groups: GroupEntry[], value: string): number {
  if (NUMERIC.test(value)) return toId(value, 'group id');
  const entry = groups.find((g) => g.name === value);
  if (!entry) throw new InvalidArgument(`unable to find group ${value}: no matching entries in group file`);
  return entry.gid;
}
