/**
 * The host side of userns-remap, done once when hakod starts (as dockerd does): resolve the
 * daemon.json "userns-remap" value to the id maps of /etc/subuid and /etc/subgid — for "default"
 * creating the `hako-remap` system user and its ranges first — and open a user namespace with
 * those maps, whose fd idmaps the image layers (storage/LayerStore).
 */
import { execFile, spawn } from 'node:child_process';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { openSync } from 'node:fs';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { InvalidArgument, Unavailable } from '../errdefs/index.js';
import type { OciIdMapping } from '../runtime/index.js';
import { freeRange, idMapOf, parseRemapSpec, parseSubIds, rangesOf, toHost } from './subids.js';

const run = promisify(execFile);

/** The user dockerd calls `dockremap`. */
export const DEFAULT_REMAP_USER = 'hako-remap';

export interface RemapIdentity {
  /** As configured: `default` or `user[:group]`. */
  spec: string;
  user: string;
  group: string;
  uidMappings: OciIdMapping[];
  gidMappings: OciIdMapping[];
  /** The host ids of the container's root. */
  uid: number;
  gid: number;
}

export interface HostFiles {
  /** Default /etc (tests point it elsewhere only for the pure parts). */
  etc?: string;
}

interface Entry { name: string; id: number }

async function readEntries(path: string): Promise<Entry[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
    const f = l.split(':');
    return { name: f[0] ?? '', id: Number(f[2]) };
  });
}

function lookup(entries: Entry[], ref: string): Entry | undefined {
  return /^\d+$/.test(ref) ? entries.find((e) => e.id === Number(ref)) ?? { name: ref, id: Number(ref) } : entries.find((e) => e.name === ref);
}

/**
 * Resolves "userns-remap". "default" adds the `hako-remap` user (useradd --system --user-group)
 * and gives it and its group the first free 65536 ids in /etc/subuid and /etc/subgid when they
 * have none. Other values must name a user (and group) that has ranges there already.
 */
export async function resolveRemap(spec: string, o: HostFiles = {}): Promise<RemapIdentity> {
  const etc = o.etc ?? '/etc';
  const wanted = spec === 'default' ? { user: DEFAULT_REMAP_USER, group: DEFAULT_REMAP_USER } : parseRemapSpec(spec);
  if (spec === 'default') await ensureDefaultUser(etc);
  const user = lookup(await readEntries(`${etc}/passwd`), wanted.user);
  if (!user) throw new InvalidArgument(`userns-remap "${spec}": no user "${wanted.user}" in ${etc}/passwd; create it, or use "default"`);
  const groupRef = wanted.group ?? user.name;
  const group = lookup(await readEntries(`${etc}/group`), groupRef);
  if (!group) throw new InvalidArgument(`userns-remap "${spec}": no group "${groupRef}" in ${etc}/group; name one as "user:group"`);
  const subuid = parseSubIds(await readFile(`${etc}/subuid`, 'utf8').catch(() => ''));
  const subgid = parseSubIds(await readFile(`${etc}/subgid`, 'utf8').catch(() => ''));
  const uidRanges = rangesOf(subuid, [user.name, String(user.id)]);
  const gidRanges = rangesOf(subgid, [group.name, String(group.id)]);
  if (uidRanges.length === 0) throw new InvalidArgument(`userns-remap "${spec}": no subordinate uid range for "${user.name}" in ${etc}/subuid (add e.g. "${user.name}:100000:65536")`);
  if (gidRanges.length === 0) throw new InvalidArgument(`userns-remap "${spec}": no subordinate gid range for "${group.name}" in ${etc}/subgid (add e.g. "${group.name}:100000:65536")`);
  const uidMappings = idMapOf(uidRanges);
  const gidMappings = idMapOf(gidRanges);
  return { spec, user: user.name, group: group.name, uidMappings, gidMappings, uid: toHost(uidMappings, 0), gid: toHost(gidMappings, 0) };
}

async function ensureDefaultUser(etc: string): Promise<void> {
  const users = await readEntries(`${etc}/passwd`);
  if (!users.some((u) => u.name === DEFAULT_REMAP_USER)) {
    try {
      await run('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', DEFAULT_REMAP_USER]);
    } catch (err) {
      throw new Unavailable(`userns-remap "default": cannot add the user ${DEFAULT_REMAP_USER} with useradd: ${(err as Error).message.trim()}`, { cause: err });
    }
  }
  for (const file of ['subuid', 'subgid']) {
    const path = `${etc}/${file}`;
    const entries = parseSubIds(await readFile(path, 'utf8').catch(() => ''));
    if (rangesOf(entries, [DEFAULT_REMAP_USER]).length > 0) continue;
    const r = freeRange(entries);
    await appendFile(path, `${DEFAULT_REMAP_USER}:${r.start}:${r.count}\n`, { mode: 0o644 });
  }
}

/**
 * A user namespace with these maps, held open as an fd for hakod's life: a helper enters a new
 * user namespace (unshare(1)), hakod writes its uid_map/gid_map as root, opens
 * /proc/<pid>/ns/user, and ends the helper; the open fd keeps the namespace alive.
 */
export async function openUserNamespace(uidMappings: readonly OciIdMapping[], gidMappings: readonly OciIdMapping[]): Promise<number> {
  const child = spawn('unshare', ['--user', '--', '/bin/sh', '-c', 'echo ready; exec cat'], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const [ready] = await Promise.race([
      once(child.stdout!, 'data') as Promise<[Buffer]>,
      once(child, 'error').then(([e]) => { throw e as Error; }),
      once(child, 'exit').then(() => { throw new Error('unshare --user exited before entering a user namespace'); }),
    ]);
    if (!String(ready).startsWith('ready')) throw new Error(`unexpected output from unshare: ${String(ready)}`);
    const line = (maps: readonly OciIdMapping[]) => maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
    // Written by root, so setgroups(2) stays allowed in the namespace (runc writes its maps so too).
    await writeFile(`/proc/${child.pid}/uid_map`, line(uidMappings));
    await writeFile(`/proc/${child.pid}/gid_map`, line(gidMappings));
    return openSync(`/proc/${child.pid}/ns/user`, 'r');
  } catch (err) {
    throw new Unavailable(`userns-remap: cannot create a user namespace: ${(err as Error).message}`, { cause: err });
  } finally {
    child.stdin?.end();
    child.kill('SIGKILL');
  }
}
