/**
 * network: container networking on Linux bridges. Networks (the default `bridge`, user-defined
 * bridges, `host`, `none`), IPAM out of address pools, one persistent network namespace per
 * running container with a veth per network, nftables rules in hako's own table (isolation,
 * outbound masquerade, published ports as kernel DNAT, no proxy process), and the embedded DNS
 * server that resolves container names and aliases on user-defined networks.
 *
 * Left to others: which containers exist and when they start or stop (engine/networks/ calls
 * this from a ContainerExtension), /etc/hosts and resolv.conf text (engine/containers/etc-files).
 */
export {
  NetworkManager, type NetworkManagerOptions, type NetworkInfo, type EndpointInfo, type SandboxInfo,
  type PortRequest, type PortMapping, type CreateNetworkOptions, type NetworkDriver,
} from './manager.js';
export { DEFAULT_POOLS, validatePools, pickSubnet, allocateAddress, subnetConfig, type AddressPool } from './ipam.js';
export { parseCidr, formatCidr, parseIp, formatIp, overlaps, contains, type Cidr } from './cidr.js';
export { buildRuleset, deleteTableScript, type RuleNetwork, type RulePort } from './nft.js';
export { EmbeddedDns, buildQuery, parseAnswers, parseQuery, buildAnswer, type DnsResolver } from './dns.js';
export { LinuxNetHost, type NetHost } from './host.js';
export { networkConfigOf, type NetworkConfig } from './config.js';
