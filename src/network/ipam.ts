/**
 * IP address management, pure: subnets out of address pools that overlap nothing taken (other
 * networks, the host's routes), and addresses inside a network's subnet or --ip-range.
 */
import { Conflict, InvalidArgument, Unavailable } from '../errdefs/index.js';
import { broadcast, contains, formatCidr, formatIp, overlaps, parseCidr, parseIp, size, type Cidr } from './cidr.js';

/** daemon.json `default-address-pools` entry: `{"base": "172.17.0.0/12", "size": 16}`. */
export interface AddressPool {
  base: string;
  size: number;
}

/** Docker's defaults (libnetwork/ipamutils): 172.17-31.x.x/16, then 192.168.x.0/20. */
export const DEFAULT_POOLS: readonly AddressPool[] = [
  { base: '172.17.0.0/16', size: 16 },
  { base: '172.18.0.0/15', size: 16 },
  { base: '172.20.0.0/14', size: 16 },
  { base: '172.24.0.0/14', size: 16 },
  { base: '172.28.0.0/14', size: 16 },
  { base: '192.168.0.0/16', size: 20 },
];

export function validatePools(pools: readonly AddressPool[]): void {
  for (const p of pools) {
    const c = parseCidr(String(p.base), 'default-address-pools base');
    if (!Number.isInteger(p.size) || p.size < c.bits || p.size > 30) {
      throw new InvalidArgument(`invalid default-address-pools entry ${JSON.stringify(p)}: size must be between the base's prefix length (${c.bits}) and 30`);
    }
  }
}

/** The first subnet of the pools that overlaps none of `taken`. */
export function pickSubnet(pools: readonly AddressPool[], taken: readonly Cidr[]): Cidr {
  for (const p of pools) {
    const base = parseCidr(p.base, 'pool');
    const step = 2 ** (32 - p.size);
    for (let n = base.base; n < base.base + size(base); n += step) {
      const c: Cidr = { base: n >>> 0, bits: p.size };
      if (!taken.some((t) => overlaps(t, c))) return c;
    }
  }
  throw new Unavailable('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network; remove unused networks (network prune) or set default-address-pools in the daemon config');
}

export interface SubnetConfig {
  subnet: Cidr;
  gateway: number;
  /** Where container addresses come from (defaults to the subnet). */
  range: Cidr;
}

/** Checks `--subnet/--gateway/--ip-range` as docker does and fills in the gateway. */
export function subnetConfig(subnet: Cidr, gateway?: string, ipRange?: string): SubnetConfig {
  if (subnet.bits > 30) throw new InvalidArgument(`invalid subnet ${formatCidr(subnet)}: a bridge network needs at least a /30`);
  let gw = (subnet.base + 1) >>> 0;
  if (gateway) {
    const g = parseIp(gateway);
    if (g === null) throw new InvalidArgument(`invalid gateway ${JSON.stringify(gateway)}: not an IPv4 address`);
    if (!contains(subnet, g) || g === subnet.base || g === broadcast(subnet)) {
      throw new InvalidArgument(`invalid gateway ${gateway}: it is not a host address of subnet ${formatCidr(subnet)}`);
    }
    gw = g;
  }
  let range = subnet;
  if (ipRange) {
    range = parseCidr(ipRange, 'ip-range');
    if (!contains(subnet, range.base) || range.bits < subnet.bits) {
      throw new InvalidArgument(`invalid ip-range ${ipRange}: it is not inside subnet ${formatCidr(subnet)}`);
    }
  }
  return { subnet, gateway: gw, range };
}

/**
 * An address for a container: the requested one (which must be in the subnet and free), or the
 * first free one of the range. `used` holds every address in use, the gateway included.
 */
export function allocateAddress(cfg: SubnetConfig, used: ReadonlySet<number>, requested?: string, network = 'network'): number {
  const bad = (n: number) => n === cfg.subnet.base || n === broadcast(cfg.subnet) || n === cfg.gateway;
  if (requested) {
    const ip = parseIp(requested);
    if (ip === null) throw new InvalidArgument(`invalid IP address ${JSON.stringify(requested)}: not an IPv4 address`);
    if (!contains(cfg.subnet, ip) || bad(ip)) {
      throw new InvalidArgument(`invalid IP address ${requested}: it is not a usable address of network ${network} (subnet ${formatCidr(cfg.subnet)}, gateway ${formatIp(cfg.gateway)})`);
    }
    if (used.has(ip)) throw new Conflict(`address ${requested} is already in use on network ${network}; choose another --ip or leave it out`);
    return ip;
  }
  for (let n = cfg.range.base; n < cfg.range.base + size(cfg.range); n++) {
    if (!bad(n) && !used.has(n)) return n >>> 0;
  }
  throw new Unavailable(`no available IPv4 address on network ${network} (range ${formatCidr(cfg.range)}); disconnect or remove containers, or use a larger --ip-range`);
}
