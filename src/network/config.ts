/**
 * The daemon configuration of networking (daemon.json keys docker uses: `bridge`, `bip`,
 * `default-address-pools`, `dns`; hako's own `nft-table`). An engine whose data root is not the
 * default one gets its own bridge and table names, so that engines side by side (tests) never
 * share kernel objects.
 */
import { createHash } from 'node:crypto';
import { InvalidArgument } from '../errdefs/index.js';
import { validatePools, type AddressPool } from './ipam.js';
import { parseIp } from './cidr.js';

export interface NetworkConfig {
  table: string;
  defaultBridge: string;
  bip?: string;
  pools?: AddressPool[];
  dnsUpstreams?: string[];
}

export function networkConfigOf(extra: Record<string, unknown> | undefined, dataRoot: string, defaultDataRoot = '/var/lib/hako'): NetworkConfig {
  const x = extra ?? {};
  const tag = createHash('sha256').update(dataRoot).digest('hex').slice(0, 8);
  const isDefault = dataRoot === defaultDataRoot;
  const cfg: NetworkConfig = {
    table: isDefault ? 'hako' : `hako_${tag}`,
    defaultBridge: isDefault ? 'hako0' : `hk${tag}`,
  };
  const str = (k: string): string | undefined => {
    const v = x[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') throw new InvalidArgument(`daemon config "${k}" must be a non-empty string`);
    return v;
  };
  const bridge = str('bridge');
  if (bridge !== undefined) {
    if (bridge === 'none') throw new InvalidArgument('daemon config "bridge": "none" (no default bridge) is not supported by hako');
    if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge)) throw new InvalidArgument(`daemon config "bridge": ${JSON.stringify(bridge)} is not a valid interface name (at most 15 characters)`);
    cfg.defaultBridge = bridge;
  }
  const table = str('nft-table');
  if (table !== undefined) {
    if (!/^[a-zA-Z][a-zA-Z0-9_]{0,30}$/.test(table)) throw new InvalidArgument(`daemon config "nft-table": ${JSON.stringify(table)} is not a valid nftables table name`);
    cfg.table = table;
  }
  const bip = str('bip');
  if (bip !== undefined) {
    const [ip = '', bits = ''] = bip.split('/');
    if (parseIp(ip) === null || !/^\d+$/.test(bits) || Number(bits) > 30) throw new InvalidArgument(`daemon config "bip": ${JSON.stringify(bip)} must be the bridge's address and prefix, e.g. 10.213.0.1/24`);
    cfg.bip = bip;
  }
  const pools = x['default-address-pools'];
  if (pools !== undefined) {
    if (!Array.isArray(pools) || pools.length === 0) throw new InvalidArgument('daemon config "default-address-pools" must be a list of {"base": CIDR, "size": N}');
    validatePools(pools as AddressPool[]);
    cfg.pools = pools as AddressPool[];
  }
  const dns = x.dns;
  if (dns !== undefined) {
    if (!Array.isArray(dns) || !dns.every((d) => typeof d === 'string')) throw new InvalidArgument('daemon config "dns" must be a list of addresses');
    cfg.dnsUpstreams = dns as string[];
  }
  return cfg;
}
