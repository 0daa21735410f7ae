/**
 * Docker's mount specifications, parsed and validated (pure, no file system): `-v` strings in
 * HostConfig.Binds, HostConfig.Mounts objects (`--mount`), `--volumes-from`, and the anonymous
 * volumes of Config.Volumes (image VOLUME, `-v /path`). Messages follow moby's
 * volume/mounts/linux_parser.go so a user sees the same words as under Docker.
 */
import { isAbsolute, posix } from 'node:path';
import { InvalidArgument } from '../errdefs/index.js';

type Json = Record<string, unknown>;

/** A container's mount point, as persisted and (without the `#` fields) as inspect's Mounts. */
export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  /** Volume name ('' for binds and tmpfs; filled with a random name for anonymous volumes). */
  Name: string;
  /** Host path: the bind source, or the volume's mount point (filled in when known). */
  Source: string;
  Destination: string;
  Driver: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** Not shown: copy the image's content at Destination into the volume while it is empty. */
  CopyData: boolean;
  /** Not shown: the volume has no name of its own and goes with `rm -v`. */
  Anonymous: boolean;
  /** Not shown: a bind from `-v` whose missing source is created at start (docker does so). */
  CreateSource: boolean;
  /** Not shown: tmpfs mount options (size=…, mode=…). */
  TmpfsOptions: string[];
  /** Not shown: options and labels for a volume `--mount` creates. */
  VolumeOptions?: { labels: Record<string, string>; driverOpts: Record<string, string>; driver: string };
}

/** moby's volume name rule (daemon/names/names.go RestrictedNamePattern). */
export const VOLUME_NAME_RULE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

const PROPAGATIONS = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);

function base(p: Partial<MountPoint> & Pick<MountPoint, 'Type' | 'Destination'>): MountPoint {
  return {
    Name: '', Source: '', Driver: '', Mode: '', RW: true, Propagation: '', CopyData: false, Anonymous: false,
    CreateSource: false, TmpfsOptions: [], ...p,
  };
}

function checkDestination(dest: string, prefix: string): string {
  if (!isAbsolute(dest)) throw new InvalidArgument(`${prefix}invalid mount path: '${dest}' mount path must be absolute`);
  const clean = posix.normalize(dest).replace(/(.)\/+$/, '$1');
  if (clean === '/') throw new InvalidArgument(`${prefix}destination can't be '/'`);
  return clean;
}

/** Validates `-v` mode strings: at most one of ro/rw, one propagation, one of z/Z, nocopy. */
function parseMode(mode: string, spec: string): { rw: boolean; propagation: string; nocopy: boolean } {
  let rw: boolean | undefined;
  let propagation = '';
  let label = false;
  let nocopy = false;
  for (const m of mode === '' ? [] : mode.split(',')) {
    if (m === 'ro' || m === 'rw') {
      if (rw !== undefined) throw new InvalidArgument(`invalid mode: ${mode}`);
      rw = m === 'rw';
    } else if (PROPAGATIONS.has(m)) {
      if (propagation) throw new InvalidArgument(`invalid mode: ${mode}`);
      propagation = m;
    } else if (m === 'z' || m === 'Z') {
      if (label) throw new InvalidArgument(`invalid mode: ${mode}`);
      label = true;
    } else if (m === 'nocopy') {
      nocopy = true;
    } else {
      throw new InvalidArgument(`invalid volume specification: '${spec}': invalid mode: ${mode}`);
    }
  }
  return { rw: rw ?? true, propagation, nocopy };
}

/** One `-v` / Binds entry: `/host:/ctr[:mode]` is a bind, `name:/ctr[:mode]` a named volume. */
export function parseBind(spec: string): MountPoint {
  const parts = spec.split(':');
  if (parts.length < 1 || parts.length > 3 || parts.some((p, i) => p === '' && i < parts.length)) {
    throw new InvalidArgument(`invalid volume specification: '${spec}'`);
  }
  if (parts.length === 1) {
    const dest = checkDestination(parts[0] as string, `invalid volume specification: '${spec}': `);
    return base({ Type: 'volume', Destination: dest, Driver: 'local', Anonymous: true, CopyData: true });
  }
  const [source, target, mode = ''] = parts as [string, string, string?];
  const prefix = `invalid volume specification: '${spec}': `;
  const dest = checkDestination(target, prefix);
  const m = parseMode(mode, spec);
  if (isAbsolute(source)) {
    if (m.nocopy) throw new InvalidArgument(`${prefix}invalid mode: ${mode}`);
    return base({
      Type: 'bind', Source: posix.normalize(source), Destination: dest, Mode: mode, RW: m.rw,
      Propagation: m.propagation || 'rprivate', CreateSource: true,
    });
  }
  if (m.propagation) throw new InvalidArgument(`${prefix}invalid mode: ${mode}`);
  checkVolumeName(source);
  return base({ Type: 'volume', Name: source, Destination: dest, Driver: 'local', Mode: mode || 'z', RW: m.rw, CopyData: !m.nocopy });
}

export function checkVolumeName(name: string): void {
  if (!VOLUME_NAME_RULE.test(name)) {
    throw new InvalidArgument(
      `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. ` +
        'If you intended to pass a host directory, use absolute path',
    );
  }
}

const MOUNT_KEYS = new Set(['Type', 'Source', 'Target', 'ReadOnly', 'Consistency', 'BindOptions', 'VolumeOptions', 'TmpfsOptions', 'ImageOptions']);

/** One HostConfig.Mounts object (`--mount`). Bind sources must exist: `exists` asks the host. */
export function parseApiMount(m: Json, exists: (path: string) => boolean): MountPoint {
  const type = String(m.Type ?? '');
  const prefix = `invalid mount config for type "${type}": `;
  for (const k of Object.keys(m)) {
    if (!MOUNT_KEYS.has(k)) throw new InvalidArgument(`${prefix}unknown field "${k}"`);
  }
  const target = typeof m.Target === 'string' ? m.Target : '';
  if (target === '') throw new InvalidArgument(`${prefix}field Target must not be empty`);
  const dest = checkDestination(target, prefix);
  const source = typeof m.Source === 'string' ? m.Source : '';
  const rw = !m.ReadOnly;
  const only = (allowed: string) => {
    for (const k of ['BindOptions', 'VolumeOptions', 'TmpfsOptions']) {
      if (k !== allowed && m[k] != null) throw new InvalidArgument(`${prefix}field ${k} must not be specified`);
    }
  };
  switch (type) {
    case 'bind': {
      only('BindOptions');
      if (source === '') throw new InvalidArgument(`${prefix}field Source must not be empty`);
      if (!isAbsolute(source)) throw new InvalidArgument(`${prefix}invalid mount path: '${source}' mount path must be absolute`);
      if (!exists(source)) throw new InvalidArgument(`${prefix}bind source path does not exist: ${source}`);
      const bo = (m.BindOptions as Json | null) ?? {};
      const propagation = String(bo.Propagation ?? '') || 'rprivate';
      if (!PROPAGATIONS.has(propagation)) throw new InvalidArgument(`${prefix}invalid propagation mode: ${propagation}`);
      return base({ Type: 'bind', Source: posix.normalize(source), Destination: dest, RW: rw, Propagation: propagation });
    }
    case 'volume': {
      only('VolumeOptions');
      const vo = (m.VolumeOptions as Json | null) ?? {};
      const dc = (vo.DriverConfig as Json | null) ?? {};
      const driver = String(dc.Name ?? '') || 'local';
      if (driver !== 'local') throw new InvalidArgument(`${prefix}volume driver "${driver}" is not available: hako has the local driver only`);
      if (vo.Subpath) throw new InvalidArgument(`${prefix}VolumeOptions.Subpath is not supported by hako yet`);
      if (source !== '') checkVolumeName(source);
      const mp = base({
        Type: 'volume', Name: source, Destination: dest, Driver: 'local', Mode: 'z', RW: rw,
        CopyData: !vo.NoCopy, Anonymous: source === '',
      });
      mp.VolumeOptions = {
        labels: ((vo.Labels as Record<string, string> | null) ?? {}),
        driverOpts: ((dc.Options as Record<string, string> | null) ?? {}),
        driver,
      };
      return mp;
    }
    case 'tmpfs': {
      only('TmpfsOptions');
      if (source !== '') throw new InvalidArgument(`${prefix}field Source must not be specified`);
      const to = (m.TmpfsOptions as Json | null) ?? {};
      const options: string[] = [];
      const size = Number(to.SizeBytes ?? 0);
      if (!Number.isInteger(size) || size < 0) throw new InvalidArgument(`${prefix}invalid tmpfs size: ${String(to.SizeBytes)}`);
      if (size > 0) options.push(`size=${Math.ceil(size / 1024)}k`);
      if (to.Mode !== undefined && to.Mode !== null && to.Mode !== 0) options.push(`mode=${Number(to.Mode).toString(8)}`);
      for (const o of (to.Options as string[][] | null) ?? []) options.push(o.length > 1 ? `${o[0]}=${o[1]}` : String(o[0]));
      return base({ Type: 'tmpfs', Destination: dest, RW: rw, TmpfsOptions: options });
    }
    case '':
      throw new InvalidArgument('invalid mount config: mount type must not be empty');
    default:
      throw new InvalidArgument(`invalid mount config: mount type unknown: "${type}"; use bind, volume or tmpfs`);
  }
}

/** `--volumes-from container[:ro|:rw]`. */
export function parseVolumesFrom(spec: string): { container: string; mode: '' | 'ro' | 'rw' } {
  const [container = '', mode = '', ...rest] = spec.split(':');
  if (container === '' || rest.length > 0 || !['', 'ro', 'rw'].includes(mode)) {
    throw new InvalidArgument(`invalid volumes-from specification: '${spec}': use container[:ro|:rw]`);
  }
  return { container, mode: mode as '' | 'ro' | 'rw' };
}

export interface PlanInput {
  binds: string[];
  mounts: Json[];
  /** Config.Volumes keys (image VOLUME and `-v /path`). */
  volumes: string[];
  /** The mount points of each --volumes-from container, already looked up. */
  from: Array<{ mode: '' | 'ro' | 'rw'; mounts: MountPoint[] }>;
  /** HostConfig.Tmpfs destinations: an anonymous volume is not made where a tmpfs goes. */
  tmpfs: string[];
  exists: (path: string) => boolean;
}

/**
 * The mount points of a new container, in docker's order of precedence: --volumes-from, then
 * -v binds (which replace an inherited one at the same place), then --mount (which may not
 * collide with -v), then anonymous volumes for the Config.Volumes nothing else covers.
 */
export function planMounts(i: PlanInput): MountPoint[] {
  const byDest = new Map<string, MountPoint>();
  for (const f of i.from) {
    for (const mp of f.mounts) {
      if (mp.Type === 'tmpfs') continue;
      const copy: MountPoint = { ...mp, CopyData: false, CreateSource: false };
      if (f.mode !== '') copy.RW = f.mode === 'rw';
      // Inherited anonymous volumes belong to the first container: `rm -v` here keeps them.
      copy.Anonymous = false;
      byDest.set(copy.Destination, copy);
    }
  }
  const explicit = new Set<string>();
  for (const b of i.binds) {
    const mp = parseBind(b);
    if (explicit.has(mp.Destination)) throw new InvalidArgument(`Duplicate mount point: ${mp.Destination}`);
    explicit.add(mp.Destination);
    byDest.set(mp.Destination, mp);
  }
  for (const m of i.mounts) {
    const mp = parseApiMount(m, i.exists);
    if (explicit.has(mp.Destination)) throw new InvalidArgument(`Duplicate mount point: ${mp.Destination}`);
    explicit.add(mp.Destination);
    byDest.set(mp.Destination, mp);
  }
  const tmpfs = new Set(i.tmpfs.map((t) => posix.normalize(t).replace(/(.)\/+$/, '$1')));
  for (const v of i.volumes) {
    const dest = checkDestination(v, `invalid volume specification: '${v}': `);
    if (byDest.has(dest) || tmpfs.has(dest)) continue;
    byDest.set(dest, base({ Type: 'volume', Destination: dest, Driver: 'local', Anonymous: true, CopyData: true }));
  }
  return [...byDest.values()];
}

/** What inspect and ps show of a mount point (docker's MountPoint shape). */
export function mountView(mp: MountPoint): Json {
  const out: Json = { Type: mp.Type };
  if (mp.Type === 'volume') out.Name = mp.Name;
  out.Source = mp.Source;
  out.Destination = mp.Destination;
  if (mp.Type === 'volume') out.Driver = mp.Driver;
  out.Mode = mp.Mode;
  out.RW = mp.RW;
  out.Propagation = mp.Propagation;
  return out;
}
