/**
 * The rows of `ps` and `images` as docker's formatter contexts expose them to templates
 * (ContainerContext, ImageContext): pure functions of the API objects and the current time.
 */
import type { ContainerSummary, ImageSummary, Port } from '../client/index.js';
import { contextRow, humanDuration, humanSize, humanSizeWithPrecision, truncateId } from './format/index.js';

export interface RowOptions {
  trunc: boolean;
  /** ms since epoch; tests pin it. */
  now: number;
}

export { truncateId };

/** docker formatter.Ellipsis: cut to `max` characters with a trailing "…". */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  return chars.slice(0, max - 1).join('') + '…';
}

/** Go's time.Time.String() in the local zone: "2024-01-02 15:04:05 +0000 UTC". */
export function goTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const offMin = -d.getTimezoneOffset();
  const sign = offMin >= 0 ? '+' : '-';
  const off = `${sign}${pad(Math.trunc(Math.abs(offMin) / 60))}${pad(Math.abs(offMin) % 60)}`;
  let zone = 'UTC';
  if (offMin !== 0) {
    zone = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? off;
  }
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${off} ${zone}`;
}

function joinHostPort(ip: string, port: string | number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function formGroup(key: string, first: number, last: number): string {
  const slash = key.lastIndexOf('/');
  const ip = slash >= 0 ? key.slice(0, slash) : '';
  const type = slash >= 0 ? key.slice(slash + 1) : key;
  let group = first === last ? String(first) : `${first}-${last}`;
  if (ip) group = `${joinHostPort(ip, group)}->${group}`;
  return `${group}/${type}`;
}

/**
 * docker's DisplayablePorts (cli/command/formatter/container.go): consecutive ports grouped into
 * ranges ("80-82/tcp", "8.8.8.8:82->82/tcp"), then host mappings ("0.0.0.0:8080->80/tcp").
 */
export function displayPorts(ports: Port[] | null | undefined): string {
  if (!ports?.length) return '';
  const sorted = [...ports].sort((a, b) =>
    (a.PrivatePort - b.PrivatePort) || ((a.IP ?? '') < (b.IP ?? '') ? -1 : (a.IP ?? '') > (b.IP ?? '') ? 1 : 0)
    || ((a.PublicPort ?? 0) - (b.PublicPort ?? 0)) || (a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0));
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const hostMappings: string[] = [];
  for (const p of sorted) {
    const current = p.PrivatePort;
    let key = p.Type;
    if (p.IP) {
      if ((p.PublicPort ?? 0) !== current) {
        hostMappings.push(`${joinHostPort(p.IP, p.PublicPort ?? 0)}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { first: current, last: current });
    } else if (current === g.last + 1) {
      g.last = current;
    } else {
      result.push(formGroup(key, g.first, g.last));
      // Re-inserting keeps the key's first position, as docker's groupMapKeys does.
      groups.set(key, { first: current, last: current });
    }
  }
  for (const [key, g] of groups) result.push(formGroup(key, g.first, g.last));
  return [...result, ...hostMappings].join(', ');
}

export interface ContainerRow {
  ID: string;
  Image: string;
  Command: string;
  CreatedAt: string;
  RunningFor: string;
  Ports: string;
  State: string;
  Status: string;
  Size: string;
  Names: string;
  Labels: string;
  Mounts: string;
  Networks: string;
  LocalVolumes: string;
  Platform: null;
  /** Not a column: the raw labels for {{.Label "x"}}. */
  [k: string]: unknown;
}

export function containerRow(c: ContainerSummary, o: RowOptions): ContainerRow {
  let names = (c.Names ?? []).map((n) => n.replace(/^\//, ''));
  // Truncated output hides link aliases ("/web/db").
  if (o.trunc) names = names.filter((n) => !n.includes('/')).slice(0, 1);
  let image = c.Image || '<no image>';
  if (o.trunc) {
    if (image.startsWith('sha256:') || truncateId(c.ImageID ?? '') === truncateId(image)) image = truncateId(image);
    const at = image.indexOf('@');
    if (at > 0) image = image.slice(0, at);
  }
  const command = o.trunc ? ellipsis(c.Command ?? '', 20) : (c.Command ?? '');
  const labels = Object.entries(c.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  const mounts = (c.Mounts ?? []).map((m) => {
    const name = m.Name || m.Source || '';
    return o.trunc ? ellipsis(name, 15) : name;
  }).join(',');
  // docker's ContainerContext.Size: "0B" when the size was not asked for (--format json).
  let size = humanSizeWithPrecision(c.SizeRw ?? 0, 3);
  if ((c.SizeRootFs ?? 0) > 0) size = `${size} (virtual ${humanSizeWithPrecision(c.SizeRootFs ?? 0, 3)})`;
  const row: ContainerRow = {
    Command: `"${command}"`,
    CreatedAt: goTimeString(c.Created),
    ID: o.trunc ? truncateId(c.Id) : c.Id,
    Image: image,
    Labels: labels,
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Type === 'volume').length),
    Mounts: mounts,
    Names: names.join(','),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).sort().join(','),
    // docker 28's ContainerContext.Platform: the image manifest's platform, which API 1.47 lacks.
    Platform: null,
    Ports: displayPorts(c.Ports),
    RunningFor: `${humanDuration(o.now - c.Created * 1000)} ago`,
    Size: size,
    State: c.State,
    Status: c.Status,
  };
  // {{.Label "key"}}: a method, kept out of {{json .}} like docker's ContainerContext.Label.
  Object.defineProperty(row, 'Label', { value: (name: string) => c.Labels?.[name] ?? '', enumerable: false });
  return contextRow(row);
}

export interface ImageRow {
  Containers: string;
  CreatedAt: string;
  CreatedSince: string;
  Digest: string;
  ID: string;
  Repository: string;
  SharedSize: string;
  Size: string;
  Tag: string;
  UniqueSize: string;
  VirtualSize: string;
  [k: string]: unknown;
}

/** One image becomes one row per tag (or one <none>:<none> row), like docker's imageFormat. */
export function imageRows(img: ImageSummary, o: RowOptions & { digests: boolean }): ImageRow[] {
  const base = {
    Containers: img.Containers < 0 ? 'N/A' : String(img.Containers),
    CreatedAt: goTimeString(img.Created),
    CreatedSince: `${humanDuration(o.now - img.Created * 1000)} ago`,
    ID: o.trunc ? truncateId(img.Id) : img.Id,
    // docker's image formatter: Size with 3 digits, SharedSize and UniqueSize with HumanSize's 4.
    SharedSize: img.SharedSize < 0 ? 'N/A' : humanSize(img.SharedSize),
    Size: humanSizeWithPrecision(img.Size, 3),
    UniqueSize: img.SharedSize < 0 ? 'N/A' : humanSize(img.Size - img.SharedSize),
    // HumanSize (4 digits) here, unlike Size: docker's imageContext.VirtualSize.
    VirtualSize: humanSize(img.VirtualSize ?? img.Size),
  };
  const digestsByRepo = new Map<string, string[]>();
  for (const rd of img.RepoDigests ?? []) {
    const at = rd.indexOf('@');
    if (at < 0) continue;
    const repo = rd.slice(0, at);
    if (repo === '<none>') continue;
    const list = digestsByRepo.get(repo) ?? [];
    list.push(rd.slice(at + 1));
    digestsByRepo.set(repo, list);
  }
  const rows: ImageRow[] = [];
  const tags = (img.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
  const repoSeen = new Set<string>();
  for (const rt of tags) {
    const colon = rt.lastIndexOf(':');
    const repo = rt.slice(0, colon);
    const tag = rt.slice(colon + 1);
    repoSeen.add(repo);
    const digs = digestsByRepo.get(repo) ?? [];
    if (o.digests && digs.length) {
      for (const d of digs) rows.push({ ...base, Repository: repo, Tag: tag, Digest: d });
    } else {
      rows.push({ ...base, Repository: repo, Tag: tag, Digest: digs[0] ?? '<none>' });
    }
  }
  // Digests without a tag: "repo <none> sha256:..."
  for (const [repo, digs] of digestsByRepo) {
    if (repoSeen.has(repo)) continue;
    for (const d of o.digests ? digs : digs.slice(0, 1)) rows.push({ ...base, Repository: repo, Tag: '<none>', Digest: d });
  }
  if (rows.length === 0) rows.push({ ...base, Repository: '<none>', Tag: '<none>', Digest: '<none>' });
  return rows.map(contextRow);
}
