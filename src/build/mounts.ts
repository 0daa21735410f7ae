/**
 * `RUN --mount=…` (reference.md "RUN --mount"): parsing the CSV specs (pure), and the cache-mount
 * directories under `<data-root>/buildcache/<id>` with BuildKit's sharing modes. Mounts are bind
 * or tmpfs mounts of the RUN container, so nothing under them ever reaches the step's layer.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, lstat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { InvalidArgument } from '../errdefs/index.js';

export type RunMount =
  | { type: 'cache'; target: string; id: string; sharing: 'shared' | 'private' | 'locked'; readonly: boolean; from?: string; source?: string; mode?: number; uid?: number; gid?: number }
  | { type: 'bind'; target: string; source: string; from?: string; readwrite: boolean }
  | { type: 'tmpfs'; target: string; size?: number }
  | { type: 'secret'; target: string; id: string; required: boolean; env?: string; mode: number; uid: number; gid: number };

const KEYS: Record<RunMount['type'], Set<string>> = {
  cache: new Set(['target', 'dst', 'destination', 'id', 'sharing', 'ro', 'readonly', 'from', 'source', 'src', 'mode', 'uid', 'gid']),
  bind: new Set(['target', 'dst', 'destination', 'source', 'src', 'from', 'rw', 'readwrite', 'ro', 'readonly']),
  tmpfs: new Set(['target', 'dst', 'destination', 'size']),
  secret: new Set(['target', 'dst', 'destination', 'id', 'required', 'env', 'mode', 'uid', 'gid']),
};

/** One `--mount` value: `type=cache,target=/root/.cache,sharing=locked`. `workdir` resolves relative targets. */
export function parseRunMount(spec: string, workdir = '/'): RunMount {
  const kv = new Map<string, string | null>();
  for (const field of spec.split(',')) {
    if (field === '') continue;
    const eq = field.indexOf('=');
    const k = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    kv.set(k, eq < 0 ? null : field.slice(eq + 1));
  }
  const type = (kv.get('type') ?? 'bind') as RunMount['type'];
  kv.delete('type');
  const keys = KEYS[type];
  if (!keys) throw new InvalidArgument(`RUN --mount=${spec}: unsupported mount type "${type}": use bind, cache, tmpfs or secret`);
  for (const k of kv.keys()) if (!keys.has(k)) throw new InvalidArgument(`RUN --mount=${spec}: unexpected key "${k}" for a ${type} mount`);
  const str = (...names: string[]): string | undefined => {
    for (const n of names) { const v = kv.get(n); if (v !== undefined) return v ?? ''; }
    return undefined;
  };
  const bool = (...names: string[]): boolean => {
    for (const n of names) {
      if (!kv.has(n)) continue;
      const v = kv.get(n);
      if (v === null || v === '' || v === 'true') return true;
      if (v === 'false') return false;
      throw new InvalidArgument(`RUN --mount=${spec}: ${n}=${v}: use true or false`);
    }
    return false;
  };
  const int = (name: string, base: number): number | undefined => {
    const v = kv.get(name);
    if (v === undefined) return undefined;
    const n = Number.parseInt(v ?? '', base);
    if (!Number.isFinite(n) || n < 0 || !(base === 8 ? /^[0-7]+$/ : /^\d+$/).test(v ?? '')) throw new InvalidArgument(`RUN --mount=${spec}: invalid ${name} "${v}"`);
    return n;
  };
  const rawTarget = str('target', 'dst', 'destination');
  const target = rawTarget ? posix.resolve(workdir, rawTarget) : undefined;
  switch (type) {
    case 'cache': {
      if (!target) throw new InvalidArgument(`RUN --mount=${spec}: a cache mount needs target=`);
      const sharing = (str('sharing') || 'shared') as 'shared' | 'private' | 'locked';
      if (!['shared', 'private', 'locked'].includes(sharing)) throw new InvalidArgument(`RUN --mount=${spec}: sharing=${sharing}: use shared, private or locked`);
      const from = str('from');
      const source = str('source', 'src');
      const mode = int('mode', 8);
      const uid = int('uid', 10);
      const gid = int('gid', 10);
      return {
        type, target, id: str('id') || target, sharing, readonly: bool('ro', 'readonly'),
        ...(from ? { from } : {}), ...(source ? { source } : {}),
        ...(mode !== undefined ? { mode } : {}), ...(uid !== undefined ? { uid } : {}), ...(gid !== undefined ? { gid } : {}),
      };
    }
    case 'bind': {
      if (!target) throw new InvalidArgument(`RUN --mount=${spec}: a bind mount needs target=`);
      const from = str('from');
      return { type, target, source: str('source', 'src') || '/', ...(from ? { from } : {}), readwrite: bool('rw', 'readwrite') };
    }
    case 'tmpfs': {
      if (!target) throw new InvalidArgument(`RUN --mount=${spec}: a tmpfs mount needs target=`);
      const size = str('size');
      if (size !== undefined && !/^\d+[kmg]?$/i.test(size)) throw new InvalidArgument(`RUN --mount=${spec}: invalid size "${size}"`);
      return { type, target, ...(size ? { size: sizeBytes(size) } : {}) };
    }
    case 'secret': {
      const id = str('id') || (rawTarget ? posix.basename(rawTarget) : '');
      if (!id) throw new InvalidArgument(`RUN --mount=${spec}: a secret mount needs id= or target=`);
      const env = str('env');
      return {
        type, id, target: target ?? (env && !rawTarget ? '' : `/run/secrets/${id}`), required: bool('required'),
        ...(env ? { env } : {}), mode: int('mode', 8) ?? 0o400, uid: int('uid', 10) ?? 0, gid: int('gid', 10) ?? 0,
      };
    }
  }
}

function sizeBytes(s: string): number {
  const m = /^(\d+)([kmg]?)$/i.exec(s) as RegExpExecArray;
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] as string).toLowerCase()] as number;
  return Number(m[1]) * mult;
}

/**
 * Cache-mount directories, shared by every build of one daemon. shared: one directory for all
 * concurrent users; locked: one user at a time (others wait); private: a busy directory gives the
 * next user a fresh throw-away one.
 */
export class CacheMounts {
  readonly root: string;
  readonly #users = new Map<string, number>();
  readonly #locks = new Map<string, Promise<void>>();

  constructor(root: string) {
    this.root = root;
  }

  /** The directory name of a cache id (ids are user text: hashed to stay one path component). */
  static dirName(id: string): string {
    const safe = id.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40);
    return `${safe}-${createHash('sha256').update(id).digest('hex').slice(0, 12)}`;
  }

  /** Acquires the directory of `id` under its sharing mode; call `release` when the RUN ends. */
  async acquire(id: string, sharing: 'shared' | 'private' | 'locked', init?: { mode?: number; uid?: number; gid?: number; seed?: (dir: string) => Promise<void> }): Promise<{ dir: string; release: () => Promise<void> }> {
    const dir = join(this.root, CacheMounts.dirName(id));
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    const fresh = await lstat(dir).then(() => false, () => true);
    if (fresh) {
      await mkdir(dir, { recursive: true, mode: init?.mode ?? 0o755 });
      if (init?.uid !== undefined || init?.gid !== undefined) {
        const { chown } = await import('node:fs/promises');
        await chown(dir, init.uid ?? 0, init.gid ?? 0);
      }
      // `from=`: a new cache starts as a copy of that stage's (or image's) `source` (BuildKit's base of the cache mount).
      if (init?.seed) await init.seed(dir).catch(async (err: unknown) => { await rm(dir, { recursive: true, force: true }); throw err; });
    }
    if (sharing === 'private' && (this.#users.get(dir) ?? 0) > 0) {
      const tmp = await mkdtemp(join(this.root, '.private-'));
      return { dir: tmp, release: () => rm(tmp, { recursive: true, force: true }) };
    }
    if (sharing === 'locked') {
      const prev = this.#locks.get(dir) ?? Promise.resolve();
      let unlock!: () => void;
      const mine = new Promise<void>((r) => { unlock = r; });
      const chained = prev.then(() => mine);
      this.#locks.set(dir, chained);
      await prev;
      this.#users.set(dir, (this.#users.get(dir) ?? 0) + 1);
      return {
        dir,
        release: async () => {
          this.#users.set(dir, (this.#users.get(dir) ?? 1) - 1);
          if (this.#locks.get(dir) === chained) this.#locks.delete(dir);
          unlock();
        },
      };
    }
    this.#users.set(dir, (this.#users.get(dir) ?? 0) + 1);
    return { dir, release: async () => { this.#users.set(dir, (this.#users.get(dir) ?? 1) - 1); } };
  }

  /** True while a build uses the directory `name`. */
  inUse(name: string): boolean {
    return (this.#users.get(join(this.root, name)) ?? 0) > 0;
  }

  async list(): Promise<string[]> {
    return (await readdir(this.root).catch(() => [] as string[])).filter((n) => !n.startsWith('.'));
  }
}
