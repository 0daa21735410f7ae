import type { Filters, Json } from '../contract.js';
import { InvalidArgument } from '../../errdefs/index.js';
import { humanDuration } from '../../units/index.js';
import type { ContainerRecord } from './record.js';

/** Docker's ContainerInspectResponse for a record. */
export function inspectView(rec: ContainerRecord, extra: { execIds: string[]; graphDriverData: Json; sizeRw?: number; sizeRootFs?: number }): Json {
  const out: Json = {
    Id: rec.Id,
    Created: rec.Created,
    Path: rec.Path,
    Args: rec.Args,
    State: { ...rec.State },
    Image: rec.Image,
    ResolvConfPath: rec.ResolvConfPath,
    HostnamePath: rec.HostnamePath,
    HostsPath: rec.HostsPath,
    LogPath: rec.LogPath,
    Name: `/${rec.Name}`,
    RestartCount: rec.RestartCount,
    Driver: 'overlay2',
    Platform: rec.Platform,
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: extra.execIds.length > 0 ? extra.execIds : null,
    HostConfig: rec.HostConfig,
    GraphDriver: { Name: 'overlay2', Data: extra.graphDriverData },
    Mounts: [],
    Config: rec.Config,
    NetworkSettings: {
      Bridge: '', SandboxID: '', SandboxKey: '', Ports: {}, HairpinMode: false,
      LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0, SecondaryIPAddresses: null, SecondaryIPv6Addresses: null,
      EndpointID: '', Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, IPAddress: '', IPPrefixLen: 0,
      IPv6Gateway: '', MacAddress: '', Networks: {},
    },
  };
  if (extra.sizeRw !== undefined) out.SizeRw = extra.sizeRw;
  if (extra.sizeRootFs !== undefined) out.SizeRootFs = extra.sizeRootFs;
  return out;
}

/** Docker's human status column ("Up 5 minutes", "Exited (0) 3 seconds ago"), from the state. */
export function statusText(rec: ContainerRecord, now = Date.now()): string {
  const s = rec.State;
  if (s.Status === 'running' || s.Status === 'paused') {
    const up = `Up ${humanDuration(now - Date.parse(s.StartedAt))}`;
    return s.Status === 'paused' ? `${up} (Paused)` : up;
  }
  if (s.Status === 'exited') {
    if (s.FinishedAt.startsWith('0001')) return `Exited (${s.ExitCode})`;
    return `Exited (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
  }
  // docker's State.String(): a restart waiting out its backoff, since the last exit.
  if (s.Status === 'restarting') return `Restarting (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
  if (s.Status === 'removing') return 'Removal In Progress';
  if (s.Status === 'dead') return 'Dead';
  return 'Created';
}

/** Docker's ContainerSummary (GET /containers/json). */
export function summaryView(rec: ContainerRecord, imageName: string, sizes?: { SizeRw: number; SizeRootFs: number }): Json {
  const cmd = [rec.Path, ...rec.Args].map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ');
  const out: Json = {
    Id: rec.Id,
    Names: [`/${rec.Name}`],
    Image: imageName,
    ImageID: rec.Image,
    Command: cmd,
    Created: Math.floor(Date.parse(rec.Created) / 1000),
    Ports: [],
    Labels: (rec.Config.Labels as Json) ?? {},
    State: rec.State.Status,
    Status: statusText(rec),
    HostConfig: { NetworkMode: rec.HostConfig.NetworkMode },
    NetworkSettings: { Networks: {} },
    Mounts: [],
  };
  if (sizes) Object.assign(out, sizes);
  return out;
}

const FILTER_KEYS = new Set(['id', 'name', 'label', 'status', 'ancestor', 'exited', 'before', 'since', 'health', 'isolation', 'is-task', 'network', 'publish', 'expose', 'volume']);
const STATUSES = new Set(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);

export interface ListContext {
  /** Image ids that an `ancestor` filter value names: the image and every image built on it. */
  ancestorIds(ref: string): Set<string>;
  find(ref: string): ContainerRecord | undefined;
}

/** Applies docker's `ps --filter` semantics: values of one key OR, different keys AND. */
export function filterContainers(records: ContainerRecord[], filters: Filters, ctx: ListContext): ContainerRecord[] {
  for (const key of Object.keys(filters)) {
    if (!FILTER_KEYS.has(key)) throw new InvalidArgument(`invalid filter '${key}'`);
  }
  for (const s of filters.status ?? []) {
    if (!STATUSES.has(s)) throw new InvalidArgument(`invalid filter 'status=${s}'`);
  }
  const exited = (filters.exited ?? []).map((v) => {
    if (!/^-?\d+$/.test(v)) throw new InvalidArgument(`invalid filter 'exited=${v}'`);
    return Number(v);
  });
  const ancestors = (filters.ancestor ?? []).map((a) => ctx.ancestorIds(a));
  const bound = (key: 'before' | 'since'): ContainerRecord | undefined => {
    const v = filters[key]?.[0];
    if (v === undefined) return undefined;
    const rec = ctx.find(v);
    if (!rec) throw new InvalidArgument(`No such container: ${v}`);
    return rec;
  };
  const before = bound('before');
  const since = bound('since');
  return records.filter((rec) => {
    if (filters.id?.length && !filters.id.some((p) => rec.Id.startsWith(p))) return false;
    if (filters.name?.length && !filters.name.some((n) => matchesName(rec.Name, n))) return false;
    if (filters.status?.length && !filters.status.includes(rec.State.Status)) return false;
    if (exited.length && !(rec.State.Status === 'exited' && exited.includes(rec.State.ExitCode))) return false;
    if (filters.label?.length && !filters.label.every((l) => matchesLabel((rec.Config.Labels as Record<string, string>) ?? {}, l))) return false;
    if (ancestors.length && !ancestors.some((set) => set.has(rec.Image))) return false;
    if (before && !(rec.Created < before.Created)) return false;
    if (since && !(rec.Created > since.Created)) return false;
    return true;
  });
}

// docker matches name filters as an unanchored regexp against "/name".
function matchesName(name: string, pattern: string): boolean {
  try {
    return new RegExp(pattern).test(`/${name}`);
  } catch {
    throw new InvalidArgument(`invalid filter 'name=${pattern}'`);
  }
}

function matchesLabel(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq < 0) return filter in labels;
  const key = filter.slice(0, eq);
  if (key.endsWith('!')) return labels[key.slice(0, -1)] !== filter.slice(eq + 1);
  return labels[key] === filter.slice(eq + 1);
}
