/**
 * `hako network create|ls|inspect|rm|prune|connect|disconnect`, as docker's cli/command/network:
 * the same flags, the CLI-side IPAM checks (createIPAMConfig), the same table and messages.
 */
import type { Command } from '../command.js';
import { StatusError, isNotFound } from '../errors.js';
import { errorText, forEachName } from '../containers.js';
import { printInspected, renderList } from '../render.js';
import { parseFilters, filterFlag, FORMAT_HELP } from '../filters.js';
import { contextRow, truncateId } from '../format/index.js';
import { pruneCommand, pruneReport } from './prune.js';
import { kvMap, commaList } from '../flag-values.js';

type Json = Record<string, unknown>;

export const NETWORK_HEADERS: Record<string, string> = {
  ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv4: 'IPV4', IPv6: 'IPV6',
  Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT',
};

export const NETWORK_TABLE = '{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';

/** Go's time.Time.String() of an RFC 3339 UTC time: "2024-01-02 15:04:05.123 +0000 UTC". */
export function goUtcString(rfc3339: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(rfc3339);
  if (!m) return rfc3339;
  const frac = (m[3] ?? '').replace(/0+$/, '');
  return `${m[1]} ${m[2]}${frac ? `.${frac}` : ''} +0000 UTC`;
}

/** A row of `network ls` as docker's networkContext exposes it (and marshals it for `json`). */
export function networkRow(n: Json, trunc: boolean): Json {
  const labels = (n.Labels as Record<string, string> | null) ?? {};
  const row: Json = {
    CreatedAt: goUtcString(String(n.Created ?? '')),
    Driver: String(n.Driver ?? ''),
    ID: trunc ? truncateId(String(n.Id ?? '')) : String(n.Id ?? ''),
    IPv4: String(n.EnableIPv4 !== false),
    IPv6: String(n.EnableIPv6 === true),
    Internal: String(n.Internal === true),
    Labels: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(','),
    Name: String(n.Name ?? ''),
    Scope: String(n.Scope ?? ''),
  };
  Object.defineProperty(row, 'Label', { value: (k: string) => labels[k] ?? '', enumerable: false });
  return contextRow(row);
}

/** fvbommel/sortorder.NaturalLess: digit runs compare as numbers ("net2" < "net10"). */
export function naturalLess(a: string, b: string): boolean {
  const chunks = (s: string) => s.match(/\d+|\D+/g) ?? [];
  const ca = chunks(a);
  const cb = chunks(b);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const x = ca[i]!;
    const y = cb[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = x.replace(/^0+/, '');
      const ny = y.replace(/^0+/, '');
      if (nx.length !== ny.length) return nx.length < ny.length;
      if (nx !== ny) return nx < ny;
      return x.length < y.length;
    }
    return x < y;
  }
  return ca.length < cb.length;
}

/** IPv4 only here: the CLI checks shape, the daemon owns the rules (cli may not import network/). */
function parseIp(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m || m.slice(1).some((p) => Number(p) > 255)) return null;
  return m.slice(1).reduce((n, p) => n * 256 + Number(p), 0);
}

interface Cidr { base: number; bits: number }

function contains(c: Cidr, ip: number): boolean {
  const size = 2 ** (32 - c.bits);
  return ip >= c.base && ip < c.base + size;
}

function cidrOrThrow(s: string, what: string): Cidr {
  const [ip = '', bits = '', extra] = s.split('/');
  const addr = parseIp(ip);
  if (addr === null || extra !== undefined || !/^\d{1,2}$/.test(bits) || Number(bits) > 32) {
    throw new StatusError(1, `invalid ${what}: invalid CIDR address: ${s}`);
  }
  const size = 2 ** (32 - Number(bits));
  return { base: addr - (addr % size), bits: Number(bits) };
}

/** docker's createIPAMConfig: every --ip-range and --gateway belongs to exactly one --subnet. */
export function ipamConfig(subnets: string[], ranges: string[], gateways: string[], aux: Record<string, string>): Json[] {
  if (subnets.length < ranges.length || subnets.length < gateways.length) {
    throw new StatusError(1, 'every ip-range or gateway must have a corresponding subnet');
  }
  const configs: Array<{ cidr: Cidr; cfg: Json }> = [];
  // IPv6 items go to the daemon as they are: it answers whether it supports them.
  const v6: Json[] = [...subnets, ...ranges, ...gateways].filter((s) => s.includes(':')).map((s) => (subnets.includes(s) ? { Subnet: s } : ranges.includes(s) ? { IPRange: s } : { Gateway: s }));
  [subnets, ranges, gateways] = [subnets, ranges, gateways].map((l) => l.filter((s) => !s.includes(':'))) as [string[], string[], string[]];
  const unparsed: Json[] = [];
  for (const s of subnets) {
    // docker 28 leaves a malformed --subnet to the daemon, whose message names the problem.
    if (!/^[\d.]+\/\d+$/.test(s)) {
      unparsed.push({ Subnet: s });
      continue;
    }
    const cidr = cidrOrThrow(s, 'subnet');
    for (const o of configs) {
      if (contains(o.cidr, cidr.base) || contains(cidr, o.cidr.base)) throw new StatusError(1, 'multiple overlapping subnet configuration is not supported');
    }
    configs.push({ cidr, cfg: { Subnet: s } });
  }
  for (const r of ranges) {
    const range = cidrOrThrow(r, 'ip-range');
    const owner = configs.find((o) => contains(o.cidr, range.base));
    if (!owner) throw new StatusError(1, `no matching subnet for range ${r}`);
    if (owner.cfg.IPRange) throw new StatusError(1, `cannot configure multiple ranges (${r}, ${String(owner.cfg.IPRange)}) on the same subnet (${String(owner.cfg.Subnet)})`);
    owner.cfg.IPRange = r;
  }
  for (const g of gateways) {
    const ip = parseIp(g);
    if (ip === null) throw new StatusError(1, `invalid argument "${g}" for "--gateway" flag: invalid string being converted to IP address: ${g}`);
    const owner = configs.find((o) => contains(o.cidr, ip));
    if (!owner) throw new StatusError(1, `no matching subnet for gateway ${g}`);
    if (owner.cfg.Gateway) throw new StatusError(1, `cannot configure multiple gateways (${g}, ${String(owner.cfg.Gateway)}) for the same subnet (${String(owner.cfg.Subnet)})`);
    owner.cfg.Gateway = g;
  }
  for (const [key, a] of Object.entries(aux)) {
    const ip = parseIp(a);
    const owner = ip === null ? undefined : configs.find((o) => contains(o.cidr, ip));
    if (!owner) throw new StatusError(1, `no matching subnet for aux-address ${a}`);
    ((owner.cfg.AuxiliaryAddresses ??= {}) as Record<string, string>)[key] = a;
  }
  return [...configs.map((c) => c.cfg), ...unparsed, ...v6];
}

const INSPECT_FORMAT_HELP = "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";

export const networkCreate: Command = {
  spec: {
    use: '[OPTIONS] NETWORK',
    short: 'Create a network',
    flags: [
      { name: 'attachable', kind: 'bool', usage: 'Enable manual container attachment' },
      { name: 'aux-address', kind: 'stringArray', valueName: 'map', usage: 'Auxiliary IPv4 or IPv6 addresses used by Network driver (default map[])' },
      { name: 'config-from', kind: 'string', usage: 'The network from which to copy the configuration' },
      { name: 'config-only', kind: 'bool', usage: 'Create a configuration only network' },
      { name: 'driver', short: 'd', kind: 'string', default: 'bridge', usage: 'Driver to manage the Network' },
      { name: 'gateway', kind: 'stringArray', valueName: 'strings', usage: 'IPv4 or IPv6 Gateway for the master subnet' },
      { name: 'ingress', kind: 'bool', usage: 'Create swarm routing-mesh network' },
      { name: 'internal', kind: 'bool', usage: 'Restrict external access to the network' },
      { name: 'ip-range', kind: 'stringArray', valueName: 'strings', usage: 'Allocate container ip from a sub-range' },
      { name: 'ipam-driver', kind: 'string', default: 'default', usage: 'IP Address Management Driver' },
      { name: 'ipam-opt', kind: 'stringArray', valueName: 'map', usage: 'Set IPAM driver specific options (default map[])' },
      { name: 'ipv4', kind: 'bool', default: true, usage: 'Enable or disable IPv4 address assignment' },
      { name: 'ipv6', kind: 'bool', usage: 'Enable or disable IPv6 address assignment' },
      {
        name: 'label', kind: 'stringArray', valueName: 'list', usage: 'Set metadata on a network',
        validate: (v) => (v.startsWith('=') ? `invalid label '${v}': empty name` : undefined),
      },
      { name: 'opt', short: 'o', kind: 'stringArray', valueName: 'map', usage: 'Set driver specific options (default map[])' },
      { name: 'scope', kind: 'string', usage: "Control the network's scope" },
      { name: 'subnet', kind: 'stringArray', valueName: 'strings', usage: 'Subnet in CIDR format that represents a network segment' },
    ],
    args: { min: 1, max: 1 },
  },
  async run(cli, flags, args) {
    const config = ipamConfig(commaList(flags.array('subnet')), commaList(flags.array('ip-range')), commaList(flags.array('gateway')), kvMap(flags.array('aux-address')));
    const body: Json = {
      Name: args[0],
      Driver: flags.string('driver'),
      Options: kvMap(flags.array('opt')),
      IPAM: { Driver: flags.string('ipam-driver'), Config: config, Options: kvMap(flags.array('ipam-opt')) },
      Internal: flags.bool('internal'),
      EnableIPv6: flags.bool('ipv6'),
      Attachable: flags.bool('attachable'),
      Ingress: flags.bool('ingress'),
      Scope: flags.string('scope'),
      ConfigOnly: flags.bool('config-only'),
      Labels: kvMap(flags.array('label')),
    };
    if (flags.has('ipv4')) body.EnableIPv4 = flags.bool('ipv4');
    if (flags.string('config-from')) body.ConfigFrom = { Network: flags.string('config-from') };
    const client = await cli.client();
    const res = await client.networkCreate(body);
    if (res.Warning) cli.err(`WARNING: ${res.Warning}`);
    cli.out(res.Id);
  },
};

export const networkLs: Command = {
  spec: {
    use: '[OPTIONS]',
    short: 'List networks',
    aliases: 'hako network ls, hako network list',
    flags: [
      filterFlag('f', 'Provide filter values (e.g. "driver=bridge")'),
      { name: 'format', kind: 'string', usage: FORMAT_HELP },
      { name: 'no-trunc', kind: 'bool', usage: 'Do not truncate the output' },
      { name: 'quiet', short: 'q', kind: 'bool', usage: 'Only display network IDs' },
    ],
    args: { max: 0 },
  },
  async run(cli, flags) {
    const client = await cli.client();
    const nets = await client.networkList(parseFilters(flags.array('filter')));
    nets.sort((a, b) => (naturalLess(String(a.Name), String(b.Name)) ? -1 : naturalLess(String(b.Name), String(a.Name)) ? 1 : 0));
    const rows = nets.map((n) => networkRow(n, !flags.bool('no-trunc')));
    let format = flags.string('format') || 'table';
    if (flags.bool('quiet') && format === 'table') format = '{{.ID}}';
    cli.stdout.write(renderList(rows, { format, defaultTable: NETWORK_TABLE, headers: NETWORK_HEADERS }));
  },
};

export const networkInspect: Command = {
  spec: {
    use: '[OPTIONS] NETWORK [NETWORK...]',
    short: 'Display detailed information on one or more networks',
    flags: [
      { name: 'format', short: 'f', kind: 'string', usage: INSPECT_FORMAT_HELP },
      { name: 'verbose', short: 'v', kind: 'bool', usage: 'Verbose output for diagnostics' },
    ],
    args: { min: 1 },
  },
  async run(cli, flags, args) {
    const client = await cli.client();
    const inspectOne = (ref: string) => client.networkInspect(ref, { verbose: flags.bool('verbose') });
    // Not found: the daemon's own message, as docker's network inspect prints it.
    await printInspected(cli.stdout, args, flags.string('format'), inspectOne, (_ref, notFound) => errorText(notFound));
  },
};

export const networkRm: Command = {
  spec: {
    use: 'NETWORK [NETWORK...]',
    short: 'Remove one or more networks',
    aliases: 'hako network rm, hako network remove',
    flags: [{ name: 'force', short: 'f', kind: 'bool', usage: 'Do not error if the network does not exist' }],
    args: { min: 1 },
  },
  async run(cli, flags, args) {
    const client = await cli.client();
    const status = await forEachName(cli, args, (ref) => client.networkRemove(ref), {
      ignore: (e) => flags.bool('force') && isNotFound(e),
    });
    if (status) throw new StatusError(status, `exit status ${status}`);
  },
};

export const networkPrune = pruneCommand({
  short: 'Remove all unused networks',
  filterUsage: 'Provide filter values (e.g. "until=<timestamp>")',
  warning: () => 'WARNING! This will remove all custom networks not used by at least one container.',
  async prune(client, filters) {
    const res = await client.networkPrune(filters);
    return pruneReport('Deleted Networks', res.NetworksDeleted ?? [], null);
  },
});

export const networkConnect: Command = {
  spec: {
    use: '[OPTIONS] NETWORK CONTAINER',
    short: 'Connect a container to a network',
    flags: [
      { name: 'alias', kind: 'stringArray', valueName: 'strings', usage: 'Add network-scoped alias for the container' },
      { name: 'driver-opt', kind: 'stringArray', valueName: 'strings', usage: 'driver options for the network' },
      { name: 'gw-priority', kind: 'int', usage: 'Highest gw-priority provides the default gateway. Accepts positive and negative values.' },
      { name: 'ip', kind: 'string', usage: 'IPv4 address (e.g., "172.30.100.104")' },
      { name: 'ip6', kind: 'string', usage: 'IPv6 address (e.g., "2001:db8::33")' },
      { name: 'link', kind: 'stringArray', valueName: 'list', usage: 'Add link to another container' },
      { name: 'link-local-ip', kind: 'stringArray', valueName: 'strings', usage: 'Add a link-local address for the container' },
    ],
    args: { min: 2, max: 2 },
  },
  async run(cli, flags, args) {
    const driverOpts: Record<string, string> = {};
    for (const o of commaList(flags.array('driver-opt'))) {
      const eq = o.indexOf('=');
      if (eq <= 0) throw new StatusError(1, 'invalid key/value pair format in driver options');
      driverOpts[o.slice(0, eq).trim()] = o.slice(eq + 1).trim();
    }
    const ipam: Json = {};
    if (flags.string('ip')) ipam.IPv4Address = flags.string('ip');
    if (flags.string('ip6')) ipam.IPv6Address = flags.string('ip6');
    const linkLocal = commaList(flags.array('link-local-ip'));
    if (linkLocal.length) ipam.LinkLocalIPs = linkLocal;
    const endpoint: Json = {
      IPAMConfig: ipam,
      Links: flags.array('link'),
      Aliases: commaList(flags.array('alias')),
      DriverOpts: driverOpts,
      GwPriority: flags.number('gw-priority'),
    };
    const client = await cli.client();
    await client.networkConnect(args[0]!, { Container: args[1]!, EndpointConfig: endpoint });
  },
};

export const networkDisconnect: Command = {
  spec: {
    use: '[OPTIONS] NETWORK CONTAINER',
    short: 'Disconnect a container from a network',
    flags: [{ name: 'force', short: 'f', kind: 'bool', usage: 'Force the container to disconnect from a network' }],
    args: { min: 2, max: 2 },
  },
  async run(cli, flags, args) {
    const client = await cli.client();
    await client.networkDisconnect(args[0]!, { Container: args[1]!, Force: flags.bool('force') });
  },
};
