/**
 * Docker's networks API and the container extension that gives each container its network:
 * the netns (or host/none/another container's), /etc/hosts and resolv.conf, NetworkSettings in
 * inspect, Ports in ps. The kernel work and state are network/'s NetworkManager.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { Conflict, Forbidden, InvalidArgument, NotFound, NotImplemented } from '../../errdefs/index.js';
import type { NetworkManager, NetworkInfo, EndpointInfo, PortRequest } from '../../network/index.js';
import type { RuntimeSettings } from '../../runtime/index.js';
import type { Filters, Json, NetworkService } from '../contract.js';
import type { ContainerExtension, EventBus } from '../extensions.js';
import type { ContainerRecord } from '../containers/record.js';
import { hostsFile, resolvConfFile } from '../containers/etc-files.js';

export interface ContainerLookup {
  find(ref: string): ContainerRecord | undefined;
  get(ref: string): ContainerRecord;
  all(): ContainerRecord[];
}

const BUILTIN_MODES = new Set(['host', 'none']);

/** NetworkMode as docker stores it: `default` is the `bridge` network. */
function modeOf(rec: ContainerRecord): string {
  const m = String(rec.HostConfig.NetworkMode ?? 'default');
  return m === '' || m === 'default' ? 'bridge' : m;
}

function labelsMatch(labels: Record<string, string>, wanted: string[]): boolean {
  return wanted.every((w) => {
    const i = w.indexOf('=');
    return i < 0 ? w in labels : labels[w.slice(0, i)] === w.slice(i + 1);
  });
}

/** A namespace's configuration, run once: from the `creating` hook, or at `beforeStart` at the latest. */
class Configuring {
  readonly #configure: () => Promise<void>;
  running: Promise<void> | null = null;

  constructor(configure: () => Promise<void>) {
    this.#configure = configure;
  }

  run(): Promise<void> {
    if (!this.running) {
      this.running = this.#configure();
      this.running.catch(() => undefined); // awaited at beforeStart; no unhandled rejection before
    }
    return this.running;
  }
}

export class Networking implements NetworkService {
  /** Registered with the container service: every container's network, from create to removal. */
  readonly extension: ContainerExtension = {
    name: 'networks',
    create: (rec, body) => this.#onCreate(rec, body),
    prepare: (rec, settings) => this.#onPrepare(rec, settings),
    creating: (rec) => void this.#configuring.get(rec.Id)?.run(),
    beforeStart: async (rec) => {
      // Dropped once configured: an entry left at `stopped` means no "connect" event went out.
      await this.#configuring.get(rec.Id)?.run();
      this.#configuring.delete(rec.Id);
      // As docker: a network "connect" event for each network a starting container joins, a
      // "disconnect" when it stops (moby's connectToNetwork / releaseNetwork).
      this.#publishEndpoints('connect', rec.Id);
    },
    stopped: async (rec) => {
      // A start that failed before beforeStart was done: let a configuration under way settle,
      // then undo it all, without a "disconnect" for a "connect" never published.
      const configuring = this.#configuring.get(rec.Id);
      this.#configuring.delete(rec.Id);
      await configuring?.running?.catch(() => undefined);
      const live = configuring ? [] : this.#m.endpointsFor(rec.Id).filter((e) => e.ip).map((e) => e.networkId);
      await this.#m.stop(rec.Id, { shared: this.#joined(rec) });
      this.#publishEndpoints('disconnect', rec.Id, live);
    },
    removed: async (rec) => {
      await this.#m.stop(rec.Id);
      this.#m.forget(rec.Id);
    },
    inspect: (rec, view) => this.#onInspect(rec, view),
    summary: (rec, row) => this.#onSummary(rec, row),
    close: () => this.#m.close(),
  };
  readonly #m: NetworkManager;
  readonly #events: EventBus;
  /** Namespaces to configure while runc creates their containers (see NetworkManager.start). */
  readonly #configuring = new Map<string, Configuring>();
  #containers: ContainerLookup | null = null;

  constructor(manager: NetworkManager, events: EventBus) {
    this.#m = manager;
    this.#events = events;
    // The embedded DNS answers a container's current name.
    events.subscribe((ev) => {
      if (ev.Type === 'container' && ev.Action === 'rename' && ev.Actor.Attributes.name) this.#m.rename(ev.Actor.ID, ev.Actor.Attributes.name);
    });
  }

  /** The container store, once the container service exists. */
  bind(containers: ContainerLookup): void {
    this.#containers = containers;
  }

  /**
   * Before containers are restored: endpoints and namespaces of containers that no longer exist
   * (removed while a crashed hakod could not see it), and namespaces of containers recorded as
   * stopped, are released.
   */
  async reconcile(): Promise<void> {
    for (const id of this.#m.containerIds()) {
      const rec = this.#find(id);
      if (!rec) {
        await this.#m.stop(id);
        this.#m.forget(id);
      } else if (!rec.State.Running && this.#m.sandbox(id)) {
        await this.#m.stop(id);
      }
    }
  }

  /** Whether a running container shares `rec`'s network namespace (--network container:). */
  #joined(rec: ContainerRecord): boolean {
    return this.#store.all().some((o) => {
      const m = modeOf(o);
      return o.State.Running && m.startsWith('container:') && this.#find(m.slice(10))?.Id === rec.Id;
    });
  }

  /** The container, or undefined (the store throws NotFound for a full id it does not hold). */
  #find(ref: string): ContainerRecord | undefined {
    try {
      return this.#store.find(ref);
    } catch (err) {
      if (err instanceof NotFound) return undefined;
      throw err;
    }
  }

  get #store(): ContainerLookup {
    if (!this.#containers) throw new Error('networks: container store not bound');
    return this.#containers;
  }

  #publish(action: string, net: NetworkInfo, extra: Record<string, string> = {}): void {
    this.#events.publish('network', action, net.Id, { name: net.Name, type: net.Driver, ...extra });
  }

  /** One event per network of the container's running endpoints (or of `networkIds`). */
  #publishEndpoints(action: 'connect' | 'disconnect', containerId: string, networkIds?: string[]): void {
    const ids = networkIds ?? this.#m.endpointsFor(containerId).filter((e) => e.ip).map((e) => e.networkId);
    for (const id of ids) {
      let net: NetworkInfo;
      try { net = this.#m.find(id); } catch { continue; } // removed meanwhile
      this.#publish(action, net, { container: containerId });
    }
  }

  // ---- API ----------------------------------------------------------------------------------

  #view(n: NetworkInfo, withContainers: boolean): Json {
    const containers: Json = {};
    if (withContainers) {
      for (const e of this.#m.endpointsOf(n.Id)) {
        if (!e.ip) continue;
        containers[e.containerId] = { Name: e.name, EndpointID: e.endpointId, MacAddress: e.mac, IPv4Address: `${e.ip}/${n.Subnet!.split('/')[1]}`, IPv6Address: '' };
      }
    }
    const config = n.Subnet ? [{ Subnet: n.Subnet, Gateway: n.Gateway, ...(n.IPRange ? { IPRange: n.IPRange } : {}) }] : [];
    return {
      Name: n.Name, Id: n.Id, Created: n.Created, Scope: 'local', Driver: n.Driver, EnableIPv4: true, EnableIPv6: false,
      IPAM: { Driver: 'default', Options: null, Config: config },
      Internal: n.Internal, Attachable: n.Attachable, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
      Containers: containers, Options: n.Options, Labels: n.Labels,
    };
  }

  async list(filters: Filters = {}): Promise<Json[]> {
    for (const k of Object.keys(filters)) {
      if (!['name', 'id', 'driver', 'label', 'type', 'scope', 'dangling'].includes(k)) throw new InvalidArgument(`invalid filter '${k}'`);
    }
    const nets = this.#m.list().filter((n) => {
      if (filters.name?.length && !filters.name.some((s) => n.Name.includes(s))) return false;
      if (filters.id?.length && !filters.id.some((s) => n.Id.startsWith(s))) return false;
      if (filters.driver?.length && !filters.driver.includes(n.Driver)) return false;
      if (filters.label?.length && !labelsMatch(n.Labels, filters.label)) return false;
      if (filters.scope?.length && !filters.scope.includes('local')) return false;
      if (filters.type?.length && !filters.type.includes(n.Builtin ? 'builtin' : 'custom')) return false;
      if (filters.dangling?.length) {
        const dangling = !n.Builtin && !this.#m.endpointsOf(n.Id).some((e) => e.ip);
        if (filters.dangling.includes('true') !== dangling) return false;
      }
      return true;
    });
    return nets.sort((a, b) => (a.Created < b.Created ? -1 : 1)).map((n) => this.#view(n, false));
  }

  async inspect(ref: string): Promise<Json> {
    return this.#view(this.#m.find(ref), true);
  }

  async create(body: Json): Promise<{ Id: string; Warning: string }> {
    const name = body.Name;
    if (typeof name !== 'string' || name === '') throw new InvalidArgument('network name is required (Name)');
    if (body.EnableIPv6 === true) throw new NotImplemented('IPv6 networks are not supported by hako yet');
    if (body.Ingress === true || body.ConfigOnly === true || (body.ConfigFrom as Json | undefined)?.Network) {
      throw new NotImplemented('ingress, config-only and config-from networks are swarm features hako does not have');
    }
    const ipam = (body.IPAM as Json | undefined) ?? {};
    if (ipam.Driver && ipam.Driver !== 'default') throw new NotImplemented(`IPAM driver ${JSON.stringify(ipam.Driver)} is not supported; hako has the default one`);
    if (body.EnableIPv4 === false) throw new NotImplemented('networks without IPv4 (--ipv4=false) are not supported by hako');
    if (body.Scope && body.Scope !== 'local') throw new NotImplemented(`network scope ${JSON.stringify(body.Scope)} is not supported: hako networks are local`);
    if (ipam.Options && Object.keys(ipam.Options as Json).length) throw new NotImplemented('--ipam-opt is not supported by hako\'s default IPAM driver');
    const configs = (ipam.Config as Json[] | null) ?? [];
    if (configs.some((c) => [c.Subnet, c.IPRange, c.Gateway].some((v) => String(v ?? '').includes(':')))) throw new NotImplemented('IPv6 subnets are not supported by hako yet');
    if (configs.length > 1) throw new NotImplemented('hako networks have one IPv4 subnet; give one --subnet');
    const c = configs[0] ?? {};
    if (c.AuxiliaryAddresses && Object.keys(c.AuxiliaryAddresses as Json).length) throw new NotImplemented('--aux-address is not supported yet');
    const net = await this.#m.create({
      name,
      driver: (body.Driver as string) || 'bridge',
      ...(c.Subnet ? { subnet: String(c.Subnet) } : {}),
      ...(c.Gateway ? { gateway: String(c.Gateway) } : {}),
      ...(c.IPRange ? { ipRange: String(c.IPRange) } : {}),
      internal: body.Internal === true,
      attachable: body.Attachable === true,
      labels: (body.Labels as Record<string, string> | null) ?? {},
      options: (body.Options as Record<string, string> | null) ?? {},
    });
    this.#publish('create', net);
    return { Id: net.Id, Warning: '' };
  }

  async remove(ref: string): Promise<void> {
    const net = await this.#m.remove(ref);
    this.#publish('destroy', net);
  }

  async prune(filters: Filters = {}): Promise<{ NetworksDeleted: string[] }> {
    const deleted: string[] = [];
    for (const n of this.#m.list()) {
      // As docker: only running containers (active endpoints) keep a network; a stopped one's start fails later.
      if (n.Builtin || this.#m.endpointsOf(n.Id).some((e) => e.ip)) continue;
      if (filters.label?.length && !labelsMatch(n.Labels, filters.label)) continue;
      if (filters['label!']?.length && filters['label!'].some((l) => labelsMatch(n.Labels, [l]))) continue;
      if (filters.until?.length) {
        const until = filters.until[0]!;
        const t = /^\d+$/.test(until) ? Number(until) * 1000 : Date.parse(until);
        if (Date.parse(n.Created) >= t) continue;
      }
      await this.#m.remove(n.Id);
      this.#publish('destroy', n);
      deleted.push(n.Name);
    }
    return { NetworksDeleted: deleted };
  }

  async connect(ref: string, body: Json): Promise<void> {
    const net = this.#m.find(ref);
    const rec = this.#store.get(String(body.Container ?? ''));
    const mode = modeOf(rec);
    if (BUILTIN_MODES.has(mode) || mode.startsWith('container:')) throw new Forbidden(`container ${rec.Name} uses network mode ${mode} and cannot be connected to other networks`);
    if (BUILTIN_MODES.has(net.Name)) throw new Forbidden(`container cannot be disconnected from host network or connected to host network`);
    const ec = (body.EndpointConfig as Json | null) ?? {};
    await this.#m.connect(rec.Id, rec.Name, net, endpointCfg(ec));
    if (!rec.State.Running) return; // as docker: the event comes when the container starts
    await this.#writeHosts(rec);
    this.#publish('connect', net, { container: rec.Id });
  }

  async disconnect(ref: string, body: Json): Promise<void> {
    const net = this.#m.find(ref);
    const rec = this.#store.get(String(body.Container ?? ''));
    await this.#m.disconnect(rec.Id, net);
    this.#publish('disconnect', net, { container: rec.Id });
  }

  // ---- container extension ------------------------------------------------------------------

  #onCreate(rec: ContainerRecord, body?: Json): void {
    const mode = modeOf(rec);
    rec.HostConfig.NetworkMode = mode;
    const endpoints = (((body?.NetworkingConfig as Json | undefined)?.EndpointsConfig as Record<string, Json> | null) ?? {});
    const legacyMac = typeof rec.Config.MacAddress === 'string' ? rec.Config.MacAddress : '';
    const links = [...((rec.HostConfig.Links as string[] | null) ?? []), ...Object.values(endpoints).flatMap((ec) => (ec?.Links as string[] | null) ?? [])];
    if (links.length) throw new NotImplemented(`--link ${links[0]}: legacy container links are not supported by hako; put the containers on a user-defined network (hako network create), where they resolve each other by name and --network-alias`);
    if (mode.startsWith('container:')) {
      const target = mode.slice(10);
      // Not NotFound: a 404 on create makes the docker CLI try to pull the image.
      if (!this.#find(target)) throw new InvalidArgument(`network mode ${mode}: no such container: ${target}`);
      if (Object.keys(endpoints).length) throw new InvalidArgument('conflicting options: networks cannot be given with --network container:');
      return;
    }
    const primary = this.#m.find(mode);
    if (BUILTIN_MODES.has(primary.Name) && Object.keys(endpoints).some((k) => k !== primary.Name && k !== mode)) {
      throw new InvalidArgument(`conflicting options: container cannot be connected to host or none network and other networks`);
    }
    // Validate everything before recording anything: create fails as a whole.
    const plan: Array<[NetworkInfo, ReturnType<typeof endpointCfg>]> = [];
    const seen = new Set<string>();
    const add = (net: NetworkInfo, ec: Json) => {
      if (seen.has(net.Id)) return;
      seen.add(net.Id);
      plan.push([net, endpointCfg(ec, plan.length === 0 ? legacyMac : '')]);
    };
    add(primary, endpoints[mode] ?? endpoints[primary.Name] ?? endpoints[primary.Id] ?? endpoints.default ?? {});
    // The docker CLI files the endpoint of `--network default` (its default) under "default".
    for (const [k, ec] of Object.entries(endpoints)) add(k === 'default' ? primary : this.#m.find(k), ec);
    const done: NetworkInfo[] = [];
    try {
      for (const [net, cfg] of plan) {
        this.#m.declare(rec.Id, rec.Name, net, cfg);
        done.push(net);
      }
    } catch (err) {
      this.#m.forget(rec.Id);
      throw err;
    }
  }

  async #onPrepare(rec: ContainerRecord, settings: RuntimeSettings): Promise<void> {
    const mode = modeOf(rec);
    const hc = rec.HostConfig;
    const hostname = String(rec.Config.Hostname ?? '');
    const extraHosts = ((hc.ExtraHosts as string[] | null) ?? []).map((h) => h.replace(/:host-gateway$/, `:${this.#m.hostGateway()}`));
    const dns = (hc.Dns as string[] | null) ?? [];
    const search = (hc.DnsSearch as string[] | null) ?? [];
    const options = (hc.DnsOptions as string[] | null) ?? [];
    const hostResolv = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
    settings.namespaces ??= {};
    if (mode.startsWith('container:')) {
      const target = this.#store.get(mode.slice(10));
      if (!target.State.Running) throw new Conflict(`cannot join the network of container ${target.Name}: it is not running`);
      const sb = this.#m.sandbox(target.Id);
      settings.namespaces.network = { path: sb ? sb.nsPath : `/proc/${target.State.Pid}/ns/net` };
      await writeFile(rec.HostsPath, await readFile(target.HostsPath));
      await writeFile(rec.ResolvConfPath, await readFile(target.ResolvConfPath));
      return;
    }
    if (mode === 'host') {
      settings.namespaces.network = 'host';
      const hosts = await readFile('/etc/hosts', 'utf8').catch(() => '');
      const extra = extraHosts.map((h) => { const i = h.indexOf(':'); return `${h.slice(i + 1)}\t${h.slice(0, i)}`; });
      await writeFile(rec.HostsPath, `${hosts}${hosts.endsWith('\n') || !hosts ? '' : '\n'}${extra.map((l) => `${l}\n`).join('')}`);
      await writeFile(rec.ResolvConfPath, dns.length || search.length || options.length ? resolvConfFile(hostResolv, dns, search, options) : hostResolv);
      return;
    }
    if (mode === 'none') {
      settings.namespaces.network = 'private';
      await writeFile(rec.HostsPath, hostsFile(hostname, extraHosts));
      await writeFile(rec.ResolvConfPath, resolvConfFile(hostResolv, dns, search, options));
      return;
    }
    // As docker: a network removed (or pruned) while the container was stopped fails its start.
    const primary = this.#m.find(mode);
    if (!this.#m.endpointsFor(rec.Id).some((e) => e.networkId === primary.Id)) throw new NotFound(`network ${mode} not found`);
    const { sandbox: sb, configure } = await this.#m.start(rec.Id, { ports: portRequests(rec), dns });
    this.#configuring.set(rec.Id, new Configuring(configure));
    settings.namespaces.network = { path: sb.nsPath };
    const eps = this.#m.endpointsFor(rec.Id);
    const userNet = eps.map((e) => this.#m.find(e.networkId)).find((n) => !n.Builtin && n.Driver === 'bridge');
    let resolv: string;
    if (userNet) {
      // The embedded DNS listens on the network's gateway; it forwards what it does not know.
      const keep = resolvConfFile(hostResolv, ['0.0.0.0'], search, options).split('\n').filter((l) => l && !l.startsWith('nameserver'));
      resolv = [`nameserver ${userNet.Gateway}`, ...keep].join('\n') + '\n';
    } else {
      resolv = resolvConfFile(hostResolv, dns, search, options);
    }
    await Promise.all([this.#writeHosts(rec, extraHosts), writeFile(rec.ResolvConfPath, resolv)]);
  }

  async #writeHosts(rec: ContainerRecord, extra?: string[]): Promise<void> {
    const extraHosts = extra ?? ((rec.HostConfig.ExtraHosts as string[] | null) ?? []).map((h) => h.replace(/:host-gateway$/, `:${this.#m.hostGateway()}`));
    const ip = this.#m.endpointsFor(rec.Id).find((e) => e.ip)?.ip;
    await writeFile(rec.HostsPath, hostsFile(String(rec.Config.Hostname ?? ''), extraHosts, ip));
  }

  #onInspect(rec: ContainerRecord, view: Json): void {
    const eps = this.#m.endpointsFor(rec.Id);
    const sb = this.#m.sandbox(rec.Id);
    const networks: Json = {};
    for (const e of eps) {
      let net: NetworkInfo;
      try {
        net = this.#m.find(e.networkId);
      } catch {
        continue;
      }
      networks[net.Name] = endpointView(e, net, Boolean(sb));
    }
    const ports: Json = {};
    if (sb) {
      for (const k of Object.keys((rec.Config.ExposedPorts as Json | undefined) ?? {})) ports[k] = null;
      for (const p of sb.ports) {
        const key = `${p.containerPort}/${p.proto}`;
        ((ports[key] ??= []) as Json[]).push({ HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) });
      }
    }
    const bridge = eps.find((e) => this.#m.list().find((n) => n.Id === e.networkId)?.Name === 'bridge');
    const prev = (view.NetworkSettings as Json | undefined) ?? {};
    const bits = (n: string | undefined) => (n ? Number(n.split('/')[1]) : 0);
    const bridgeNet = bridge ? this.#m.find(bridge.networkId) : undefined;
    view.NetworkSettings = {
      ...prev,
      Bridge: '', SandboxID: sb ? rec.Id : '', SandboxKey: sb?.nsPath ?? '', HairpinMode: false,
      LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0, Ports: ports, SecondaryIPAddresses: null, SecondaryIPv6Addresses: null,
      EndpointID: sb && bridge ? bridge.endpointId : '',
      Gateway: sb && bridge ? bridgeNet?.Gateway ?? '' : '',
      GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0,
      IPAddress: sb && bridge ? bridge.ip ?? '' : '',
      IPPrefixLen: sb && bridge ? bits(bridgeNet?.Subnet) : 0,
      IPv6Gateway: '',
      MacAddress: sb && bridge ? bridge.mac ?? '' : '',
      Networks: networks,
    };
  }

  #onSummary(rec: ContainerRecord, row: Json): void {
    const sb = this.#m.sandbox(rec.Id);
    const ports: Json[] = [];
    if (sb) {
      const published = new Set<string>();
      for (const p of sb.ports) {
        published.add(`${p.containerPort}/${p.proto}`);
        ports.push({ IP: p.hostIp || '0.0.0.0', PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.proto });
      }
      for (const k of Object.keys((rec.Config.ExposedPorts as Json | undefined) ?? {})) {
        if (published.has(k)) continue;
        const [port, proto = 'tcp'] = k.split('/');
        ports.push({ PrivatePort: Number(port), Type: proto });
      }
    }
    row.Ports = ports;
    const networks: Json = {};
    for (const e of this.#m.endpointsFor(rec.Id)) {
      try {
        const net = this.#m.find(e.networkId);
        networks[net.Name] = endpointView(e, net, Boolean(sb));
      } catch {
        // network removed meanwhile
      }
    }
    row.NetworkSettings = { Networks: networks };
    row.HostConfig = { ...((row.HostConfig as Json | undefined) ?? {}), NetworkMode: modeOf(rec) };
  }
}

function endpointCfg(ec: Json, legacyMac = ''): { ip?: string; mac?: string; aliases?: string[] } {
  const ipam = (ec.IPAMConfig as Json | null) ?? {};
  const out: { ip?: string; mac?: string; aliases?: string[] } = {};
  if (ipam.IPv4Address) out.ip = String(ipam.IPv4Address);
  if (ipam.IPv6Address) throw new NotImplemented('--ip6: IPv6 is not supported by hako yet');
  const mac = (ec.MacAddress as string | undefined) || legacyMac;
  if (mac) out.mac = mac;
  if (((ec.Links as string[] | null) ?? []).length) throw new NotImplemented('--link: legacy container links are not supported by hako; containers on a user-defined network resolve each other by name and --alias');
  if (((ipam.LinkLocalIPs as string[] | null) ?? []).length) throw new NotImplemented('--link-local-ip is not supported by hako');
  if (Object.keys((ec.DriverOpts as Json | null) ?? {}).length) throw new NotImplemented('endpoint driver options (--driver-opt) are not supported by hako\'s bridge driver');
  if (typeof ec.GwPriority === 'number' && ec.GwPriority !== 0) throw new NotImplemented('--gw-priority is not supported by hako: the first routed network gives the default route');
  const aliases = (ec.Aliases as string[] | null) ?? [];
  if (aliases.length) out.aliases = aliases;
  return out;
}

function endpointView(e: EndpointInfo, net: NetworkInfo, running: boolean): Json {
  return {
    IPAMConfig: e.requestedIp ? { IPv4Address: e.requestedIp } : null,
    Links: null, Aliases: e.aliases.length ? e.aliases : null, MacAddress: running ? e.mac ?? '' : '', DriverOpts: null,
    NetworkID: net.Id, EndpointID: running && e.ip ? e.endpointId : '',
    Gateway: running && e.ip ? net.Gateway ?? '' : '',
    IPAddress: running ? e.ip ?? '' : '',
    IPPrefixLen: running && e.ip && net.Subnet ? Number(net.Subnet.split('/')[1]) : 0,
    IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0,
    DNSNames: net.Builtin ? null : [e.name, e.containerId.slice(0, 12), ...e.aliases],
  };
}

/** `-p` and `-P` as host port requests. */
function portRequests(rec: ContainerRecord): PortRequest[] {
  const bindings = (rec.HostConfig.PortBindings as Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | null) ?? {};
  const out: PortRequest[] = [];
  const parse = (key: string) => {
    const [port = '', proto = 'tcp'] = key.split('/');
    if (!/^\d+$/.test(port) || !['tcp', 'udp', 'sctp'].includes(proto)) throw new InvalidArgument(`invalid port ${JSON.stringify(key)}`);
    return { containerPort: Number(port), proto: proto as PortRequest['proto'] };
  };
  for (const [key, list] of Object.entries(bindings)) {
    const { containerPort, proto } = parse(key);
    // HostPort "0" asks for an ephemeral port, as "" does (moby's port allocator; Testcontainers sends it).
    for (const b of list ?? [{}]) out.push({ proto, containerPort, hostIp: b.HostIp ?? '', hostPort: b.HostPort === '0' ? '' : b.HostPort ?? '' });
  }
  if (rec.HostConfig.PublishAllPorts === true) {
    for (const key of Object.keys((rec.Config.ExposedPorts as Json | undefined) ?? {})) {
      if (key in bindings) continue;
      const { containerPort, proto } = parse(key);
      out.push({ proto, containerPort, hostIp: '', hostPort: '' });
    }
  }
  return out;
}
