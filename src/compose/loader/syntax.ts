/**
 * Short syntaxes of `ports` and `volumes` entries, parsed as compose-go does (ports as
 * go-connections' ParsePortSpec; volumes as compose-go's format.ParseVolume), into the
 * canonical long forms of model.ts. Errors are plain messages; the caller adds the key path.
 */
import * as path from 'node:path';
import type { Mount, Port } from '../model.js';

export class SyntaxError_ extends Error {}

function portNumber(s: string, what: string): number {
  if (!/^\d+$/.test(s)) throw new SyntaxError_(`invalid ${what}: ${s}`);
  const n = Number(s);
  if (n < 0 || n > 65535) throw new SyntaxError_(`invalid ${what}: ${s}`);
  return n;
}

function range(s: string, what: string): [number, number] {
  const m = /^([^-]+)(?:-(.+))?$/.exec(s);
  if (!m) throw new SyntaxError_(`invalid ${what}: ${s}`);
  const a = portNumber(m[1]!, what);
  const b = m[2] === undefined ? a : portNumber(m[2], what);
  if (b < a) throw new SyntaxError_(`invalid range specified for ${what}: ${s}`);
  return [a, b];
}

/** `[[host_ip:][published]:]target[/protocol]`, ranges allowed; a number is a target. */
export function parsePortShort(spec: string | number): Port[] {
  if (typeof spec === 'number') return [{ target: portNumber(String(spec), 'containerPort'), published: null, hostIp: null, protocol: 'tcp' }];
  let rest = spec.trim();
  let protocol: Port['protocol'] = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = rest.slice(slash + 1).toLowerCase();
    if (p !== 'tcp' && p !== 'udp' && p !== 'sctp') throw new SyntaxError_(`invalid proto: ${rest.slice(slash + 1)}`);
    protocol = p;
    rest = rest.slice(0, slash);
  }
  let hostIp: string | null = null;
  let published = '';
  let target: string;
  // An IPv6 host address is bracketed: [::1]:8080:80.
  const v6 = /^\[([0-9A-Fa-f:.]+)\]:(.*)$/.exec(rest);
  if (v6) {
    hostIp = v6[1]!;
    const parts = v6[2]!.split(':');
    if (parts.length !== 2) throw new SyntaxError_(`invalid port specification: "${spec}"`);
    published = parts[0]!;
    target = parts[1]!;
  } else {
    const parts = rest.split(':');
    if (parts.length === 1) target = parts[0]!;
    else if (parts.length === 2) [published, target] = parts as [string, string];
    else if (parts.length === 3) [hostIp, published, target] = parts as [string, string, string];
    else throw new SyntaxError_(`invalid port specification: "${spec}"`);
  }
  if (hostIp !== null && hostIp !== '' && !/^[0-9.]+$|^[0-9A-Fa-f:]+$/.test(hostIp)) throw new SyntaxError_(`invalid IP address: ${hostIp}`);
  if (hostIp === '') hostIp = null;
  const [t0, t1] = range(target, 'containerPort');
  if (published === '') {
    const out: Port[] = [];
    for (let t = t0; t <= t1; t++) out.push({ target: t, published: null, hostIp, protocol });
    return out;
  }
  const [p0, p1] = range(published, 'hostPort');
  if (t0 === t1) return [{ target: t0, published: p0 === p1 ? String(p0) : `${p0}-${p1}`, hostIp, protocol }];
  if (p1 - p0 !== t1 - t0) throw new SyntaxError_(`invalid ranges specified for container and host Ports: ${target} and ${published}`);
  const out: Port[] = [];
  for (let i = 0; i <= t1 - t0; i++) out.push({ target: t0 + i, published: String(p0 + i), hostIp, protocol });
  return out;
}

const PROPAGATIONS = new Set(['shared', 'slave', 'private', 'rshared', 'rslave', 'rprivate']);

export interface ShortVolume {
  type: 'bind' | 'volume';
  /** Host path as written (bind) or volume key; null for an anonymous volume. */
  source: string | null;
  target: string;
  readOnly: boolean;
  propagation: string | null;
  nocopy: boolean;
}

/** `[source:]target[:mode,...]`: a source starting with `.`, `/` or `~` is a host path, else a volume. */
export function parseVolumeShort(spec: string): ShortVolume {
  const parts = spec.split(':');
  if (spec.trim() === '') throw new SyntaxError_('invalid empty volume spec');
  if (parts.length > 3) throw new SyntaxError_(`invalid spec: ${spec}: too many colons`);
  let source: string | null = null;
  let target: string;
  let mode = '';
  if (parts.length === 1) target = parts[0]!;
  else if (parts.length === 2) {
    // `/data:ro` is an anonymous volume with a mode only when the second part is a mode and the
    // first not a source; compose treats two parts as source:target.
    [source, target] = parts as [string, string];
  } else [source, target, mode] = parts as [string, string, string];
  if (target === '') throw new SyntaxError_(`invalid spec: ${spec}: empty container path`);
  if (!target.startsWith('/')) throw new SyntaxError_(`invalid spec: ${spec}: container path ${JSON.stringify(target)} must be absolute`);
  if (source === '') throw new SyntaxError_(`invalid spec: ${spec}: empty section between colons`);
  let readOnly = false;
  let propagation: string | null = null;
  let nocopy = false;
  for (const m of mode ? mode.split(',') : []) {
    if (m === 'ro') readOnly = true;
    else if (m === 'rw') readOnly = false;
    else if (m === 'nocopy') nocopy = true;
    else if (PROPAGATIONS.has(m)) propagation = m;
    else if (m === 'z' || m === 'Z' || m === 'cached' || m === 'delegated' || m === 'consistent') continue;
    else throw new SyntaxError_(`invalid spec: ${spec}: unknown mode ${JSON.stringify(m)}`);
  }
  const isPath = source !== null && (source.startsWith('.') || source.startsWith('/') || source.startsWith('~'));
  return { type: source === null || !isPath ? 'volume' : 'bind', source, target: path.posix.normalize(target), readOnly, propagation, nocopy };
}

/** The target path of a `volumes` entry of either syntax (the key merges use). */
export function volumeTarget(entry: unknown): string | null {
  if (typeof entry === 'string') {
    const parts = entry.split(':');
    return parts.length === 1 ? parts[0]! : parts[1] ?? null;
  }
  if (entry && typeof entry === 'object' && typeof (entry as { target?: unknown }).target === 'string') return (entry as { target: string }).target;
  return null;
}

/** Default of the Mount fields not given by a syntax. */
export function mount(m: Partial<Mount> & Pick<Mount, 'type' | 'target'>): Mount {
  return { source: null, readOnly: false, createHostPath: false, bindPropagation: null, volumeNocopy: false, tmpfsSize: null, ...m };
}
