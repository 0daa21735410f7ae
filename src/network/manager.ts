/**
 * Networks, their endpoints and the per-container sandboxes (a network namespace with one veth
 * per network), persisted in the metadata database so that everything survives a hakod restart.
 * Knows nothing of containers beyond their id, name and the options handed to it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { Conflict, Forbidden, InvalidArgument, NotFound } from '../errdefs/index.js';
import { contains, formatCidr, formatIp, overlaps, parseCidr, parseIp, type Cidr } from './cidr.js';
import { allocateAddress, pickSubnet, subnetConfig, DEFAULT_POOLS, type AddressPool, type SubnetConfig } from './ipam.js';
import { buildRuleset, deleteTableScript, dockerUserRules, type RuleNetwork, type RulePort } from './nft.js';
import { EmbeddedDns } from './dns.js';
import { LinuxNetHost, type BridgePort, type ContainerLink, type NetHost } from './host.js';

export type NetworkDriver = 'bridge' | 'host' | 'null';

export interface NetworkInfo {
  Id: string;
  Name: string;
  Driver: NetworkDriver;
  Created: string;
  Internal: boolean;
  Attachable: boolean;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  /** bridge driver only. */
  Subnet?: string;
  Gateway?: string;
  IPRange?: string;
  Bridge?: string;
  /** bridge, host, none: made by the daemon, never removed. */
  Builtin: boolean;
}

export interface EndpointInfo {
  containerId: string;
  networkId: string;
  /** The container's name, answered by the embedded DNS. */
  name: string;
  aliases: string[];
  requestedIp?: string;
  requestedMac?: string;
  endpointId: string;
  /** Set while the container runs. */
  ip?: string;
  mac?: string;
  veth?: string;
  ifname?: string;
}

export interface PortRequest {
  proto: 'tcp' | 'udp' | 'sctp';
  containerPort: number;
  hostIp: string;
  /** '' (any free port), '8080' or a range '8000-8010'. */
  hostPort: string;
}

export interface PortMapping {
  proto: 'tcp' | 'udp' | 'sctp';
  containerPort: number;
  hostIp: string;
  hostPort: number;
}

export interface SandboxInfo {
  containerId: string;
  nsPath: string;
  ports: PortMapping[];
  /** The container's --dns servers (forwarded to instead of the host's). */
  dns: string[];
}

export interface CreateNetworkOptions {
  name: string;
  driver?: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  internal?: boolean;
  attachable?: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;
}

export interface NetworkManagerOptions {
  db: { db: import('better-sqlite3').Database; migrate(component: string, statements: readonly string[]): number };
  /** Network namespaces are bound under <execRoot>/netns. */
  execRoot: string;
  host?: NetHost;
  /** hako's nftables table (`table inet <name>`). Default "hako". */
  table?: string;
  /** The Linux bridge of the default `bridge` network. Default "hako0". */
  defaultBridge?: string;
  /** daemon.json `bip`: the default bridge's gateway/prefix, e.g. "10.213.0.1/24". */
  bip?: string;
  /** daemon.json `default-address-pools`. */
  pools?: AddressPool[];
  /** Where the embedded DNS forwards other names; default the host's resolv.conf nameservers. */
  dnsUpstreams?: string[];
  logger?: { warn(msg: string): void };
}

const MIGRATIONS = [
  `CREATE TABLE networks (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, data TEXT NOT NULL)`,
  `CREATE TABLE network_endpoints (container_id TEXT NOT NULL, network_id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (container_id, network_id))`,
  `CREATE TABLE network_sandboxes (container_id TEXT PRIMARY KEY, data TEXT NOT NULL)`,
];

const BRIDGE_NAME_OPT = 'com.docker.network.bridge.name';

export class NetworkManager {
  readonly #o: NetworkManagerOptions;
  readonly #host: NetHost;
  readonly table: string;
  readonly #networks = new Map<string, NetworkInfo>();
  readonly #endpoints = new Map<string, EndpointInfo>();
  readonly #sandboxes = new Map<string, SandboxInfo>();
  readonly #dns: EmbeddedDns;
  #rulesDigest = '';
  readonly #bridging = new Map<string, Promise<void>>();
  #hostResolvers: string[] = [];
  readonly #log: { warn(msg: string): void };

  constructor(o: NetworkManagerOptions) {
    this.#o = o;
    this.#host = o.host ?? new LinuxNetHost();
    this.table = o.table ?? 'hako';
    this.#log = o.logger ?? { warn: (m) => console.error(m) };
    this.#dns = new EmbeddedDns({ lookup: (n, c) => this.#lookup(n, c), upstreams: (c) => this.#upstreams(c) });
  }

  get #netnsDir(): string {
    return join(this.#o.execRoot, 'netns');
  }

  // ---- persistence ------------------------------------------------------------------------

  #saveNetwork(n: NetworkInfo): void {
    this.#o.db.db.prepare('INSERT OR REPLACE INTO networks (id, name, data) VALUES (?, ?, ?)').run(n.Id, n.Name, JSON.stringify(n));
    this.#networks.set(n.Id, n);
  }

  #saveEndpoint(e: EndpointInfo): void {
    this.#o.db.db.prepare('INSERT OR REPLACE INTO network_endpoints (container_id, network_id, data) VALUES (?, ?, ?)').run(e.containerId, e.networkId, JSON.stringify(e));
    this.#endpoints.set(`${e.containerId}/${e.networkId}`, e);
  }

  #deleteEndpoint(e: EndpointInfo): void {
    this.#o.db.db.prepare('DELETE FROM network_endpoints WHERE container_id = ? AND network_id = ?').run(e.containerId, e.networkId);
    this.#endpoints.delete(`${e.containerId}/${e.networkId}`);
  }

  #saveSandbox(s: SandboxInfo): void {
    this.#o.db.db.prepare('INSERT OR REPLACE INTO network_sandboxes (container_id, data) VALUES (?, ?)').run(s.containerId, JSON.stringify(s));
    this.#sandboxes.set(s.containerId, s);
  }

  #deleteSandbox(id: string): void {
    this.#o.db.db.prepare('DELETE FROM network_sandboxes WHERE container_id = ?').run(id);
    this.#sandboxes.delete(id);
  }

  /** Loads the state, makes the built-in networks, re-applies rules and DNS for what runs. */
  async restore(): Promise<void> {
    this.#o.db.migrate('network', MIGRATIONS);
    const db = this.#o.db.db;
    for (const r of db.prepare('SELECT data FROM networks').all() as Array<{ data: string }>) {
      const n = JSON.parse(r.data) as NetworkInfo;
      this.#networks.set(n.Id, n);
    }
    for (const r of db.prepare('SELECT data FROM network_endpoints').all() as Array<{ data: string }>) {
      const e = JSON.parse(r.data) as EndpointInfo;
      this.#endpoints.set(`${e.containerId}/${e.networkId}`, e);
    }
    for (const r of db.prepare('SELECT data FROM network_sandboxes').all() as Array<{ data: string }>) {
      const s = JSON.parse(r.data) as SandboxInfo;
      this.#sandboxes.set(s.containerId, s);
    }
    this.#hostResolvers = await hostNameservers();
    if (!this.#byName('host')) this.#saveNetwork(this.#builtin('host', 'host'));
    if (!this.#byName('none')) this.#saveNetwork(this.#builtin('none', 'null'));
    if (!this.#byName('bridge')) {
      const n = this.#builtin('bridge', 'bridge');
      n.Bridge = this.#o.defaultBridge ?? 'hako0';
      n.Options = { 'com.docker.network.bridge.default_bridge': 'true', [BRIDGE_NAME_OPT]: n.Bridge, 'com.docker.network.bridge.enable_ip_masquerade': 'true' };
      const cfg = await this.#defaultBridgeSubnet();
      n.Subnet = formatCidr(cfg.subnet);
      n.Gateway = formatIp(cfg.gateway);
      this.#saveNetwork(n);
    }
    await mkdir(this.#netnsDir, { recursive: true, mode: 0o700 });
    // Namespaces of sandboxes a crash forgot.
    for (const f of await readdir(this.#netnsDir).catch(() => [] as string[])) {
      if (!this.#sandboxes.has(f)) await this.#host.removeNetns(join(this.#netnsDir, f));
    }
    for (const n of this.#networks.values()) {
      if (n.Driver !== 'bridge' || !n.Bridge) continue;
      if (this.#host.linkExists(n.Bridge)) await this.#bridgeServices(n);
    }
    if (this.#sandboxes.size > 0 || [...this.#networks.values()].some((n) => !n.Builtin)) await this.#applyRules(true);
  }

  #builtin(name: string, driver: NetworkDriver): NetworkInfo {
    return { Id: createHash('sha256').update(`${this.table}/${name}/${randomBytes(8).toString('hex')}`).digest('hex'), Name: name, Driver: driver, Created: new Date().toISOString(), Internal: false, Attachable: false, Labels: {}, Options: {}, Builtin: true };
  }

  async #defaultBridgeSubnet(): Promise<SubnetConfig> {
    if (this.#o.bip) {
      const [ip = '', bits = ''] = this.#o.bip.split('/');
      const subnet = parseCidr(`${ip}/${bits}`, 'bip');
      return subnetConfig(subnet, ip);
    }
    return subnetConfig(pickSubnet(this.#o.pools ?? DEFAULT_POOLS, await this.#taken()));
  }

  async #taken(except?: string): Promise<Cidr[]> {
    const nets = [...this.#networks.values()].filter((n) => n.Subnet && n.Id !== except).map((n) => parseCidr(n.Subnet!));
    return [...nets, ...(await this.#host.routes())];
  }

  // ---- networks ---------------------------------------------------------------------------

  list(): NetworkInfo[] {
    return [...this.#networks.values()];
  }

  #byName(name: string): NetworkInfo | undefined {
    for (const n of this.#networks.values()) if (n.Name === name) return n;
    return undefined;
  }

  /** By full id, name, or unique id prefix (docker's order). */
  find(ref: string): NetworkInfo {
    const byId = this.#networks.get(ref);
    if (byId) return byId;
    const byName = this.#byName(ref);
    if (byName) return byName;
    const matches = [...this.#networks.values()].filter((n) => n.Id.startsWith(ref));
    if (ref.length > 0 && matches.length === 1) return matches[0]!;
    if (matches.length > 1) throw new InvalidArgument(`network ${ref} is ambiguous (${matches.length} matches found on id prefix)`);
    throw new NotFound(`network ${ref} not found`);
  }

  async create(o: CreateNetworkOptions): Promise<NetworkInfo> {
    const driver = o.driver || 'bridge';
    if (driver !== 'bridge') {
      if (driver === 'host' || driver === 'null') throw new Forbidden(`only one instance of "${driver}" network is allowed`);
      throw new NotFound(`plugin "${driver}" not found: hako supports the bridge network driver`);
    }
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(o.name)) throw new InvalidArgument(`invalid network name ${JSON.stringify(o.name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (this.#byName(o.name)) throw new Conflict(`network with name ${o.name} already exists`);
    const options = { ...(o.options ?? {}) };
    for (const k of Object.keys(options)) {
      if (![BRIDGE_NAME_OPT, 'com.docker.network.bridge.enable_ip_masquerade', 'com.docker.network.bridge.enable_icc', 'com.docker.network.driver.mtu'].includes(k)) {
        throw new InvalidArgument(`network option ${JSON.stringify(k)} is not supported by hako's bridge driver`);
      }
    }
    let cfg: SubnetConfig;
    if (o.subnet) {
      const subnet = parseCidr(o.subnet);
      if (formatCidr(subnet) !== o.subnet) throw new InvalidArgument(`invalid subnet ${o.subnet}: it has host bits set (did you mean ${formatCidr(subnet)}?)`);
      for (const n of this.#networks.values()) {
        if (n.Subnet && overlaps(parseCidr(n.Subnet), subnet)) {
          throw new Conflict(`invalid pool request: subnet ${o.subnet} overlaps with network ${n.Name} (${n.Subnet}); choose another --subnet`);
        }
      }
      cfg = subnetConfig(subnet, o.gateway, o.ipRange);
    } else {
      if (o.gateway || o.ipRange) throw new InvalidArgument('--gateway and --ip-range need a --subnet');
      cfg = subnetConfig(pickSubnet(this.#o.pools ?? DEFAULT_POOLS, await this.#taken()));
    }
    const id = randomBytes(32).toString('hex');
    const bridge = options[BRIDGE_NAME_OPT] || `br-${id.slice(0, 12)}`;
    if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge)) throw new InvalidArgument(`invalid bridge name ${JSON.stringify(bridge)}: at most 15 characters of [a-zA-Z0-9_.-]`);
    if ([...this.#networks.values()].some((n) => n.Bridge === bridge)) throw new Conflict(`bridge ${bridge} is already used by another network`);
    if (this.#host.linkExists(bridge)) throw new Conflict(`a network interface named ${bridge} already exists on the host; choose another ${BRIDGE_NAME_OPT}`);
    const net: NetworkInfo = {
      Id: id, Name: o.name, Driver: 'bridge', Created: new Date().toISOString(), Internal: Boolean(o.internal), Attachable: Boolean(o.attachable),
      Labels: o.labels ?? {}, Options: options, Subnet: formatCidr(cfg.subnet), Gateway: formatIp(cfg.gateway), Bridge: bridge, Builtin: false,
      ...(o.ipRange ? { IPRange: formatCidr(cfg.range) } : {}),
    };
    this.#networks.set(id, net);
    try {
      await this.#ensureBridge(net);
      await this.#applyRules();
      this.#saveNetwork(net);
    } catch (err) {
      this.#networks.delete(id);
      await this.#removeBridge(net).catch(() => undefined);
      await this.#applyRules().catch(() => undefined);
      throw err;
    }
    return net;
  }

  endpointsOf(networkId: string): EndpointInfo[] {
    return [...this.#endpoints.values()].filter((e) => e.networkId === networkId);
  }

  async remove(ref: string): Promise<NetworkInfo> {
    const net = this.find(ref);
    if (net.Builtin) throw new Forbidden(`${net.Name} is a pre-defined network and cannot be removed`);
    const active = this.endpointsOf(net.Id).filter((e) => this.#sandboxes.has(e.containerId));
    if (active.length > 0) {
      throw new Conflict(`error while removing network: network ${net.Name} has active endpoints (${active.map((e) => e.name).join(', ')}); stop or disconnect them first`);
    }
    for (const e of this.endpointsOf(net.Id)) this.#deleteEndpoint(e);
    this.#o.db.db.prepare('DELETE FROM networks WHERE id = ?').run(net.Id);
    this.#networks.delete(net.Id);
    await this.#removeBridge(net);
    await this.#applyRules();
    return net;
  }

  // ---- bridges ----------------------------------------------------------------------------

  #subnetCfg(n: NetworkInfo): SubnetConfig {
    return subnetConfig(parseCidr(n.Subnet!), n.Gateway, n.IPRange);
  }

  /** Makes the network's bridge if it is missing; concurrent starts share one attempt. */
  #ensureBridge(n: NetworkInfo): Promise<void> {
    if (this.#host.linkExists(n.Bridge!)) return Promise.resolve();
    let p = this.#bridging.get(n.Id);
    if (!p) {
      p = this.#makeBridge(n).finally(() => this.#bridging.delete(n.Id));
      this.#bridging.set(n.Id, p);
    }
    return p;
  }

  async #makeBridge(n: NetworkInfo): Promise<void> {
    const br = n.Bridge!;
    if (this.#host.linkExists(br)) return;
    // Another engine (or the host) may have taken the subnet since it was chosen.
    const subnet = parseCidr(n.Subnet!);
    const clash = (await this.#host.routes()).find((r) => overlaps(r, subnet));
    if (clash) {
      const idle = n.Builtin && !this.#o.bip && this.endpointsOf(n.Id).every((e) => !e.ip);
      if (!idle) throw new Conflict(`network ${n.Name}: subnet ${n.Subnet} overlaps the host route ${formatCidr(clash)}; remove the network and create it with another --subnet`);
      const cfg = subnetConfig(pickSubnet(this.#o.pools ?? DEFAULT_POOLS, await this.#taken(n.Id)));
      n.Subnet = formatCidr(cfg.subnet);
      n.Gateway = formatIp(cfg.gateway);
      this.#saveNetwork(n);
    }
    const mtu = n.Options['com.docker.network.driver.mtu'];
    await this.#host.ip([
      `link add ${br} type bridge${mtu ? ` mtu ${Number(mtu)}` : ''}`,
      `addr add ${n.Gateway}/${subnet.bits} dev ${br}`,
      `link set ${br} up`,
    ]);
    await this.#host.sysctl('net.ipv4.ip_forward', '1');
    // DNAT of 127.0.0.1 into a container needs loopback sources to be routable on the bridge.
    await this.#host.sysctl(`net.ipv4.conf.${br}.route_localnet`, '1');
    await this.#bridgeServices(n);
    // Masquerade and isolation for the new bridge (the default one is made here, at first use).
    await this.#applyRules();
  }

  /** The DNS listener on the gateway and Docker's FORWARD chain accepting this bridge. */
  async #bridgeServices(n: NetworkInfo): Promise<void> {
    if (!n.Builtin) {
      await this.#dns.listen(n.Gateway!).catch((err) => this.#log.warn(`embedded DNS on ${n.Gateway}:53 for network ${n.Name}: ${String(err)}`));
    }
    await this.#dockerCoexist(n.Bridge!, 'add');
  }

  async #removeBridge(n: NetworkInfo): Promise<void> {
    if (!n.Builtin) this.#dns.close(n.Gateway!);
    await this.#dockerCoexist(n.Bridge!, 'remove');
    if (this.#host.linkExists(n.Bridge!)) await this.#host.ip([`link del ${n.Bridge}`], { force: true });
  }

  /**
   * A running dockerd sets the FORWARD policy of `ip filter` to DROP; a drop there is final for
   * every packet, whatever hako's own table says. Docker leaves DOCKER-USER to its users: hako
   * accepts its bridges there (or in FORWARD when there is no DOCKER-USER).
   */
  async #dockerCoexist(bridge: string, op: 'add' | 'remove'): Promise<void> {
    const tables = await this.#host.nftTables();
    if (!/^table ip filter$/m.test(tables)) return;
    const hasUser = (await this.#host.iptables(['-S', 'DOCKER-USER'])).ok;
    const chain = hasUser ? 'DOCKER-USER' : 'FORWARD';
    for (const spec of dockerUserRules(this.table, bridge)) {
      const present = (await this.#host.iptables(['-C', chain, ...spec])).ok;
      if (op === 'add' && !present) {
        const r = await this.#host.iptables(['-I', chain, '1', ...spec]);
        if (!r.ok) this.#log.warn(`could not accept ${bridge} in iptables ${chain}: ${r.stderr.trim()}`);
      } else if (op === 'remove' && present) {
        await this.#host.iptables(['-D', chain, ...spec]);
      }
    }
  }

  /** Re-checks Docker's chains for every bridge (a dockerd started after hakod). */
  async refreshDockerCoexistence(): Promise<void> {
    for (const n of this.#networks.values()) if (n.Bridge && this.#host.linkExists(n.Bridge)) await this.#dockerCoexist(n.Bridge, 'add');
  }

  async #applyRules(force = false): Promise<void> {
    const nets: RuleNetwork[] = [];
    for (const n of this.#networks.values()) {
      if (n.Driver === 'bridge' && n.Bridge && (!n.Builtin || this.endpointsOf(n.Id).some((e) => e.ip) || this.#host.linkExists(n.Bridge))) {
        nets.push({ bridge: n.Bridge, subnet: n.Subnet!, internal: n.Internal });
      }
    }
    const ports: RulePort[] = [];
    for (const s of this.#sandboxes.values()) {
      const ip = this.#primary(s.containerId)?.ip;
      if (!ip) continue;
      for (const p of s.ports) ports.push({ proto: p.proto, hostIp: p.hostIp, hostPort: p.hostPort, containerIp: ip, containerPort: p.containerPort });
    }
    const script = buildRuleset(this.table, nets, ports);
    if (!force && script === this.#rulesDigest) return;
    await this.#host.nft(script);
    this.#rulesDigest = script;
  }

  // ---- endpoints and sandboxes ------------------------------------------------------------

  /** The endpoint whose address published ports lead to: the first one connected. */
  #primary(containerId: string): EndpointInfo | undefined {
    return this.endpointsFor(containerId).find((e) => e.ip);
  }

  endpointsFor(containerId: string): EndpointInfo[] {
    return [...this.#endpoints.values()].filter((e) => e.containerId === containerId);
  }

  sandbox(containerId: string): SandboxInfo | undefined {
    return this.#sandboxes.get(containerId);
  }

  /** The default bridge's gateway: what `--add-host x:host-gateway` resolves to. */
  hostGateway(): string {
    return this.#byName('bridge')?.Gateway ?? '';
  }

  /** Validates an endpoint's options against its network (create and connect). */
  #checkEndpoint(net: NetworkInfo, cfg: { ip?: string; mac?: string; aliases?: string[] }): void {
    if (net.Driver !== 'bridge') {
      if (cfg.ip || cfg.mac || cfg.aliases?.length) throw new InvalidArgument(`network ${net.Name}: --ip, --mac-address and --network-alias need a bridge network`);
      return;
    }
    if (cfg.ip) {
      if (net.Builtin) throw new InvalidArgument('user specified IP address is supported on user defined networks only');
      const ip = parseIp(cfg.ip);
      if (ip === null || !contains(parseCidr(net.Subnet!), ip)) throw new InvalidArgument(`invalid IP address ${cfg.ip}: it is not in network ${net.Name}'s subnet ${net.Subnet}`);
    }
    if (cfg.aliases?.length && net.Builtin) throw new InvalidArgument('network-scoped aliases are supported on user defined networks only');
    if (cfg.mac && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(cfg.mac)) throw new InvalidArgument(`invalid MAC address ${JSON.stringify(cfg.mac)}`);
  }

  /** Records a container's endpoint (at create and at connect); no address is taken yet. */
  declare(containerId: string, name: string, net: NetworkInfo, cfg: { ip?: string; mac?: string; aliases?: string[] }): EndpointInfo {
    this.#checkEndpoint(net, cfg);
    if (this.#endpoints.has(`${containerId}/${net.Id}`)) throw new Forbidden(`container ${name} is already connected to network ${net.Name}`);
    const e: EndpointInfo = {
      containerId, networkId: net.Id, name, aliases: cfg.aliases ?? [], endpointId: randomBytes(32).toString('hex'),
      ...(cfg.ip ? { requestedIp: cfg.ip } : {}), ...(cfg.mac ? { requestedMac: cfg.mac.toLowerCase() } : {}),
    };
    this.#saveEndpoint(e);
    return e;
  }

  /** Every container this manager holds endpoints or a sandbox for. */
  containerIds(): string[] {
    return [...new Set([...[...this.#endpoints.values()].map((e) => e.containerId), ...this.#sandboxes.keys()])];
  }

  /** Forgets a removed container's endpoints. */
  forget(containerId: string): void {
    for (const e of this.endpointsFor(containerId)) this.#deleteEndpoint(e);
  }

  rename(containerId: string, name: string): void {
    for (const e of this.endpointsFor(containerId)) this.#saveEndpoint({ ...e, name });
  }

  #allocate(net: NetworkInfo, e: EndpointInfo): void {
    const used = new Set<number>();
    for (const o of this.endpointsOf(net.Id)) if (o.ip && o !== e) used.add(parseIp(o.ip)!);
    const ip = formatIp(allocateAddress(this.#subnetCfg(net), used, e.requestedIp, net.Name));
    e.ip = ip;
    e.mac = e.requestedMac ?? macOf(ip);
    // Random per start: the previous start's host end may still exist for a moment (see stop()).
    e.veth = `vh${randomBytes(5).toString('hex')}`;
  }

  /** An allocated endpoint's container end (host.ts sets it up with netlink, or `ip`). */
  #link(e: EndpointInfo, net: NetworkInfo, withRoute: boolean): ContainerLink {
    return { ifname: e.ifname!, mac: e.mac!, ip: e.ip!, prefix: parseCidr(net.Subnet!).bits, peer: e.veth!, ...(withRoute ? { gateway: net.Gateway! } : {}) };
  }

  /** Sets up endpoints' veths; on a failure deletes those it made (their host ends) and says which network failed. */
  async #plug(nsPath: string, eps: ReadonlyArray<{ e: EndpointInfo; net: NetworkInfo; link: ContainerLink; port: BridgePort }>, loopback: boolean): Promise<void> {
    let step = 'container';
    try {
      await this.#host.plugContainer(nsPath, eps.map((x) => x.link), { loopback });
      step = 'host';
      await this.#host.plugHost(eps.map((x) => x.port));
    } catch (err) {
      const veths = eps.map((x) => x.e.veth).filter((v): v is string => Boolean(v) && this.#host.linkExists(v!));
      if (veths.length) await this.#host.ip(veths.map((v) => `link del ${v}`), { force: true }).catch(() => undefined);
      const nets = [...new Set(eps.map((x) => x.net.Name))].join(', ');
      const where = step === 'container' ? "the container's interfaces" : `the bridge port${eps.length > 1 ? 's' : ''}`;
      if (err instanceof Error) {
        err.message = `network ${nets}: setting up ${where}: ${err.message}`;
      }
      throw err;
    }
  }

  /**
   * Gives a starting container its network namespace: one veth per bridge network, addresses,
   * the default route, and its published ports. Resolves, with the namespace's path for runc, as
   * soon as the (empty) namespace exists: `configure` sets up its links, addresses, bridge ports
   * and NAT rules — meant to run while runc creates the container in it, to be awaited before the
   * process runs. A failure there leaves the cleanup to `stop`.
   */
  async start(containerId: string, opts: { ports: PortRequest[]; dns: string[] }): Promise<{ sandbox: SandboxInfo; configure: () => Promise<void> }> {
    const eps = this.endpointsFor(containerId).filter((e) => this.#networks.get(e.networkId)?.Driver === 'bridge');
    const nsPath = join(this.#netnsDir, containerId);
    const sandbox: SandboxInfo = { containerId, nsPath, ports: [], dns: opts.dns };
    try {
      // Bridges first: an idle default bridge may move to another subnet before addresses are taken.
      for (const e of eps) await this.#ensureBridge(this.#networks.get(e.networkId)!);
      let routed = false;
      const plan = eps.map((e, i) => {
        const net = this.#networks.get(e.networkId)!;
        this.#allocate(net, e);
        e.ifname = `eth${i}`;
        const link = this.#link(e, net, !routed && !net.Internal);
        if (!net.Internal) routed = true;
        // Hairpin: the container reaching its own published port through the host; nothing else needs it.
        return { e, net, link, port: { peer: e.veth!, bridge: net.Bridge!, hairpin: opts.ports.length > 0 } };
      });
      const primary = eps[0];
      if (opts.ports.length > 0) {
        if (!primary) throw new InvalidArgument('published ports need a bridge network; the container has none');
        if (this.#networks.get(primary.networkId)!.Internal) throw new InvalidArgument(`network ${this.#networks.get(primary.networkId)!.Name} is internal: ports cannot be published on it`);
        sandbox.ports = await this.#resolvePorts(containerId, opts.ports);
      }
      this.#saveSandbox(sandbox);
      for (const e of eps) this.#saveEndpoint(e);
      await this.#host.createNetns(nsPath);
      const configure = async (): Promise<void> => {
        await this.#plug(nsPath, plan, true);
        if (sandbox.ports.length > 0) await this.#applyRules();
      };
      return { sandbox, configure };
    } catch (err) {
      await this.stop(containerId).catch(() => undefined);
      for (const e of eps) {
        delete e.ip; delete e.mac; delete e.veth; delete e.ifname;
      }
      throw err;
    }
  }

  /**
   * Tears a container's namespace down and returns its addresses and ports. The veths are not
   * deleted one by one (`ip link del` waits for RCU grace periods, ~15 ms each): the container's
   * processes are gone, so unmounting the namespace drops its last reference and the kernel
   * destroys it, veth pairs included, in the background.
   */
  async stop(containerId: string, opts: { shared?: boolean } = {}): Promise<void> {
    const s = this.#sandboxes.get(containerId);
    const eps = this.endpointsFor(containerId);
    if (opts.shared) {
      // Containers joined this namespace (--network container:) and keep it alive: its veths
      // must go now, or the address and MAC would be on the bridge twice at the next start.
      const veths = eps.filter((e) => e.veth && this.#host.linkExists(e.veth)).map((e) => `link del ${e.veth}`);
      if (veths.length) await this.#host.ip(veths, { force: true });
    }
    await this.#host.removeNetns(s?.nsPath ?? join(this.#netnsDir, containerId));
    for (const e of eps) {
      if (!e.ip && !e.veth) continue;
      delete e.ip; delete e.mac; delete e.veth; delete e.ifname;
      this.#saveEndpoint(e);
    }
    if (s) {
      this.#deleteSandbox(containerId);
      if (s.ports.length > 0) await this.#applyRules();
    }
  }

  /** Connects a running container (with a sandbox) at once; a stopped one at its next start. */
  async connect(containerId: string, name: string, net: NetworkInfo, cfg: { ip?: string; mac?: string; aliases?: string[] }): Promise<EndpointInfo> {
    const e = this.declare(containerId, name, net, cfg);
    const s = this.#sandboxes.get(containerId);
    if (!s || net.Driver !== 'bridge') return e;
    try {
      this.#allocate(net, e);
      const used = new Set(this.endpointsFor(containerId).map((x) => x.ifname).filter(Boolean));
      let i = 0;
      while (used.has(`eth${i}`)) i++;
      e.ifname = `eth${i}`;
      await this.#ensureBridge(net);
      const routed = this.endpointsFor(containerId).some((x) => x !== e && x.ip && !this.#networks.get(x.networkId)?.Internal);
      await this.#plug(s.nsPath, [{ e, net, link: this.#link(e, net, !routed && !net.Internal), port: { peer: e.veth!, bridge: net.Bridge!, hairpin: true } }], false);
      this.#saveEndpoint(e);
      return e;
    } catch (err) {
      if (e.veth) await this.#host.ip([`link del ${e.veth}`], { force: true });
      this.#deleteEndpoint(e);
      throw err;
    }
  }

  async disconnect(containerId: string, net: NetworkInfo): Promise<void> {
    const e = this.#endpoints.get(`${containerId}/${net.Id}`);
    if (!e) throw new Forbidden(`container ${containerId} is not connected to network ${net.Name}`);
    if (e.veth && this.#host.linkExists(e.veth)) await this.#host.ip([`link del ${e.veth}`], { force: true });
    const s = this.#sandboxes.get(containerId);
    const wasPrimary = s && this.#primary(containerId) === e;
    this.#deleteEndpoint(e);
    if (wasPrimary && s.ports.length > 0) await this.#applyRules();
  }

  /** Resolves `-p` requests to concrete host ports, refusing ports already taken. */
  async #resolvePorts(containerId: string, reqs: PortRequest[]): Promise<PortMapping[]> {
    const out: PortMapping[] = [];
    const holderOf = (proto: string, hostIp: string, port: number): string | null => {
      for (const s of this.#sandboxes.values()) {
        if (s.containerId === containerId) continue;
        for (const p of s.ports) {
          if (p.proto === proto && p.hostPort === port && (p.hostIp === hostIp || !p.hostIp || !hostIp || p.hostIp === '0.0.0.0' || hostIp === '0.0.0.0')) {
            return this.endpointsFor(s.containerId)[0]?.name ?? s.containerId.slice(0, 12);
          }
        }
      }
      for (const p of out) if (p.proto === proto && p.hostPort === port && (p.hostIp === hostIp || !p.hostIp || !hostIp)) return 'this container';
      return null;
    };
    for (const r of reqs) {
      const hostIp = r.hostIp === '0.0.0.0' ? '' : r.hostIp;
      if (hostIp && parseIp(hostIp) === null) throw new InvalidArgument(`invalid host IP ${JSON.stringify(r.hostIp)} for port ${r.containerPort}/${r.proto}: hako publishes on IPv4 addresses`);
      const m = /^(\d+)(?:-(\d+))?$/.exec(r.hostPort);
      if (r.hostPort !== '' && !m) throw new InvalidArgument(`invalid host port ${JSON.stringify(r.hostPort)}`);
      let chosen = 0;
      if (!m) {
        for (let tries = 0; tries < 50 && !chosen; tries++) {
          const p = await freePort(r.proto, hostIp);
          if (!holderOf(r.proto, hostIp, p)) chosen = p;
        }
      } else {
        const lo = Number(m[1]);
        const hi = m[2] ? Number(m[2]) : lo;
        let lastErr = '';
        for (let p = lo; p <= hi && !chosen; p++) {
          const holder = holderOf(r.proto, hostIp, p);
          if (holder) {
            lastErr = `port ${p}/${r.proto} is already published by container ${holder}`;
            continue;
          }
          if (!(await portFree(r.proto, hostIp, p))) {
            const who = await this.#host.portHolder(r.proto, p);
            lastErr = `port ${hostIp || '0.0.0.0'}:${p}/${r.proto} is already in use on the host${who ? ` by ${who}` : ''}`;
            continue;
          }
          chosen = p;
        }
        if (!chosen) throw new Conflict(`cannot publish ${r.containerPort}/${r.proto}: ${lastErr}; choose another host port or stop what holds it`);
      }
      if (!chosen) throw new Conflict(`cannot publish ${r.containerPort}/${r.proto}: no free host port found`);
      out.push({ proto: r.proto, containerPort: r.containerPort, hostIp: r.hostIp, hostPort: chosen });
    }
    return out;
  }

  // ---- DNS --------------------------------------------------------------------------------

  #lookup(qname: string, client: string): string[] | null {
    const name = qname.replace(/\.$/, '').toLowerCase();
    const asker = [...this.#endpoints.values()].filter((e) => e.ip === client);
    const nets = new Set(asker.map((e) => e.networkId).filter((id) => !this.#networks.get(id)?.Builtin));
    if (nets.size === 0) return null;
    const found: string[] = [];
    for (const e of this.#endpoints.values()) {
      if (!e.ip || !nets.has(e.networkId)) continue;
      if (e.name.toLowerCase() === name || e.aliases.some((a) => a.toLowerCase() === name) || (name.length === 12 && e.containerId.startsWith(name))) {
        if (!found.includes(e.ip)) found.push(e.ip);
      }
    }
    return found.length ? found : null;
  }

  #upstreams(client: string): string[] {
    const e = [...this.#endpoints.values()].find((x) => x.ip === client);
    const s = e && this.#sandboxes.get(e.containerId);
    if (s && s.dns.length) return s.dns;
    return this.#o.dnsUpstreams ?? this.#hostResolvers;
  }

  /** hakod stops: with nothing running, every bridge and rule goes; otherwise they stay for the running containers. */
  async close(): Promise<void> {
    this.#dns.close();
    this.#host.close();
    if (this.#sandboxes.size > 0) return;
    for (const n of this.#networks.values()) {
      if (n.Driver === 'bridge' && n.Bridge) await this.#removeBridge(n).catch((err) => this.#log.warn(`removing bridge ${n.Bridge}: ${String(err)}`));
    }
    await this.#host.nft(deleteTableScript(this.table)).catch((err) => this.#log.warn(`removing nftables table ${this.table}: ${String(err)}`));
    this.#rulesDigest = '';
  }
}

function macOf(ip: string): string {
  return ['02', '42', ...ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
}

async function hostNameservers(): Promise<string[]> {
  const text = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  return text.split('\n').map((l) => /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(l)?.[1]).filter((x): x is string => Boolean(x));
}

/** Whether a host port can be bound now (nobody listens on it). */
function portFree(proto: string, hostIp: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (proto === 'udp') {
      const s = createSocket('udp4');
      s.once('error', () => { s.close(); resolve(false); });
      s.bind(port, hostIp || '0.0.0.0', () => { s.close(); resolve(true); });
      return;
    }
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: hostIp || '0.0.0.0', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A port the kernel considers free now (its ephemeral range). */
function freePort(proto: string, hostIp: string): Promise<number> {
  return new Promise((resolve, reject) => {
    if (proto === 'udp') {
      const s = createSocket('udp4');
      s.once('error', reject);
      s.bind(0, hostIp || '0.0.0.0', () => { const p = s.address().port; s.close(); resolve(p); });
      return;
    }
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ port: 0, host: hostIp || '0.0.0.0', exclusive: true }, () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}
