/**
 * Docker's `local` volume driver: a directory `<data-root>/volumes/<name>/_data`, or — with the
 * options `type`, `o` and `device` — whatever `mount -t <type> -o <o> <device>` gives there,
 * mounted while at least one container uses it (moby volume/local/local_unix.go).
 */
import { chown, lstat, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { InvalidArgument, Unavailable } from '../errdefs/index.js';

const run = promisify(execFile);

const VALID_OPTS = new Set(['type', 'o', 'device']);
/** An option that needs others (moby's mandatoryOpts). */
const REQUIRES: Record<string, string[]> = { device: ['type'], type: ['device'], o: ['device', 'type'] };

/** Validates the local driver's options; the message names the volume and the bad key. */
export function validateLocalOptions(name: string, opts: Record<string, string>): void {
  for (const key of Object.keys(opts)) {
    if (key === 'size') throw new InvalidArgument(`create ${name}: quota size requested but no quota support: the local driver of hako has no "size" option; use -o type=tmpfs -o device=tmpfs -o o=size=…`);
    if (!VALID_OPTS.has(key)) throw new InvalidArgument(`create ${name}: invalid option: "${key}" (the local driver knows type, o and device)`);
  }
  for (const [key, needs] of Object.entries(REQUIRES)) {
    if (!(key in opts)) continue;
    for (const n of needs) if (!(n in opts)) throw new InvalidArgument(`create ${name}: missing required option: "${n}"`);
  }
}

export class LocalDriver {
  readonly root: string;
  /** Volume name -> containers that have it mounted (only for volumes with mount options). */
  #users = new Map<string, Set<string>>();

  /** userns-remap: new data dirs belong to the remapped root (dockerd's root identity). */
  readonly #owner: { uid: number; gid: number } | null;

  constructor(root: string, owner: { uid: number; gid: number } | null = null) {
    this.root = root;
    this.#owner = owner;
  }

  /** Makes the data dir, owned by the remapped root when it is new and the daemon remaps. */
  async #makeDataDir(dir: string): Promise<void> {
    const made = await mkdir(dir, { recursive: true, mode: 0o755 });
    if (made !== undefined && this.#owner) await chown(dir, this.#owner.uid, this.#owner.gid);
  }

  dataDir(name: string): string {
    return join(this.root, name, '_data');
  }

  async create(name: string): Promise<string> {
    const dir = this.dataDir(name);
    await this.#makeDataDir(dir);
    return dir;
  }

  async remove(name: string): Promise<void> {
    const dir = this.dataDir(name);
    if (isMounted(dir)) await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
    await rm(join(this.root, name), { recursive: true, force: true });
  }

  /** Makes the volume's content available at its data dir for `user`; returns the path. */
  async mount(name: string, opts: Record<string, string> | null, user: string): Promise<string> {
    const dir = this.dataDir(name);
    await this.#makeDataDir(dir);
    if (!opts || !opts.type) return dir;
    const users = this.#users.get(name) ?? new Set<string>();
    if (users.size === 0 && !isMounted(dir)) {
      const args = ['-t', opts.type];
      let mountOpts = opts.o ?? '';
      if (opts.type === 'none' && /(^|,)r?bind(,|$)/.test(mountOpts)) {
        if (!existsSync(opts.device ?? '')) throw new InvalidArgument(`error while mounting volume '${name}': the bind device ${opts.device ?? ''} does not exist`);
      }
      if (mountOpts !== '') args.push('-o', mountOpts);
      args.push(opts.device ?? '', dir);
      try {
        await run('mount', args);
      } catch (err) {
        mountOpts = (err as { stderr?: string }).stderr?.trim() || String(err);
        throw new Unavailable(`error while mounting volume '${name}': ${mountOpts}`);
      }
    }
    users.add(user);
    this.#users.set(name, users);
    return dir;
  }

  /**
   * After a hakod restart: `user` (a container found running) still has the volume mounted, so
   * it counts again, and the mount stays until its last user is gone.
   */
  adopt(name: string, opts: Record<string, string> | null, user: string): void {
    if (!opts || !opts.type) return;
    const users = this.#users.get(name) ?? new Set<string>();
    users.add(user);
    this.#users.set(name, users);
  }

  /** Drops `user`'s use; the last one unmounts a volume that has mount options. */
  async unmount(name: string, opts: Record<string, string> | null, user: string): Promise<void> {
    if (!opts || !opts.type) return;
    const users = this.#users.get(name);
    if (!users || !users.delete(user) || users.size > 0) return;
    this.#users.delete(name);
    const dir = this.dataDir(name);
    if (isMounted(dir)) await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
  }

  /**
   * Bytes of the files in the volume, each hard-linked inode once, directories not counted (as
   * docker's directory.Size, so an empty volume is 0B); -1 when it cannot be measured.
   */
  async size(name: string): Promise<number> {
    const seen = new Set<string>();
    const walk = async (dir: string): Promise<number> => {
      let total = 0;
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          total += await walk(path);
          continue;
        }
        const st = await lstat(path);
        const key = `${st.dev}:${st.ino}`;
        if (st.nlink > 1 && seen.has(key)) continue;
        seen.add(key);
        total += st.size;
      }
      return total;
    };
    try {
      return await walk(this.dataDir(name));
    } catch {
      return -1;
    }
  }

  async isEmpty(name: string): Promise<boolean> {
    return (await readdir(this.dataDir(name)).catch(() => [])).length === 0;
  }

  async exists(name: string): Promise<boolean> {
    return stat(this.dataDir(name)).then(() => true, () => false);
  }
}

function isMounted(path: string): boolean {
  try {
    // /proc/self/mountinfo field 5 is the mount point, with spaces etc. octal-escaped.
    const esc = path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
    return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === esc);
  } catch {
    return false;
  }
}
