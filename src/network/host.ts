/**
 * The one seam to the operating system for networking: `ip` (iproute2, in batch mode so a
 * container's whole set-up is one or two processes), `unshare` for persistent network
 * namespaces, `nft`, `iptables`, /proc and /sys; and rtnetlink (through the addon) for the
 * `run` hot path: a container's veths, addresses and routes, and their bridge ports
 * (`plugContainer`, `plugHost`), and libnftables (the addon's optional `nftRun`) for the
 * ruleset scripts `nft` would run. Everything above it builds commands as text, or describes
 * endpoints as `ContainerLink`/`BridgePort`.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile, unlink, open } from 'node:fs/promises';
import { closeSync, existsSync, readFileSync } from 'node:fs';
import { native, tryNative, MNT_DETACH, type NativeAddon } from '../native/index.js';
import { Conflict, Internal } from '../errdefs/index.js';
import { parseCidr, type Cidr } from './cidr.js';
import * as nl from './netlink.js';

/** The container end of one veth pair, as a container's namespace gets it. */
export interface ContainerLink {
  /** Its name inside the container, e.g. `eth0`. */
  ifname: string;
  mac: string;
  ip: string;
  prefix: number;
  /** The default route's gateway; only on the first routed link. */
  gateway?: string;
  /** The host end's name (made in hakod's namespace). */
  peer: string;
}

/** The host end of a veth pair, as a port of a network's bridge. */
export interface BridgePort {
  peer: string;
  bridge: string;
  /** The container reaching its own published ports through the host. */
  hairpin: boolean;
}

/**
 * The container side as `ip -batch` lines: what plugContainer does with netlink, for hosts
 * without the addon (one description of an endpoint, two executors).
 */
export function containerIpCommands(links: readonly ContainerLink[], o: { loopback: boolean }): string[] {
  return [
    ...(o.loopback ? ['link set lo up'] : []),
    ...links.flatMap((l) => [
      `link add ${l.ifname} address ${l.mac} type veth peer name ${l.peer} netns /proc/${process.pid}/ns/net`,
      `addr add ${l.ip}/${l.prefix} dev ${l.ifname}`,
      `link set ${l.ifname} up`,
      ...(l.gateway ? [`route add default via ${l.gateway} dev ${l.ifname}`] : []),
    ]),
  ];
}

/** The host side as `ip -batch` lines (see containerIpCommands). */
export function hostIpCommands(ports: readonly BridgePort[]): string[] {
  return ports.flatMap((p) => [`link set ${p.peer} master ${p.bridge} up`, ...(p.hairpin ? [`link set ${p.peer} type bridge_slave hairpin on`] : [])]);
}

export interface NetHost {
  /** Runs `ip -batch -` on the host; with `force`, errors do not stop the batch nor throw. */
  ip(commands: string[], opts?: { force?: boolean }): Promise<void>;
  /** Runs `ip -batch -` inside the network namespace bound at `nsPath`. */
  ipIn(nsPath: string, commands: string[]): Promise<void>;
  /**
   * In the namespace at `nsPath`: `lo` up (with `loopback`), then per link a veth pair whose peer
   * goes to hakod's namespace, its MAC, address, up, and the default route where it has a
   * gateway. On a failure, veths it made stay for the caller to delete (by their peers' names).
   */
  plugContainer(nsPath: string, links: readonly ContainerLink[], o?: { loopback?: boolean }): Promise<void>;
  /** Host ends: on their bridges, up, hairpin where asked. */
  plugHost(ports: readonly BridgePort[]): Promise<void>;
  /** Releases what the host keeps open (its netlink socket); hakod stops. */
  close(): void;
  /** Creates an empty network namespace bound at `nsPath` (it outlives hakod). */
  createNetns(nsPath: string): Promise<void>;
  removeNetns(nsPath: string): Promise<void>;
  /** Applies an `nft -f` script (one transaction), by libnftables or by spawning nft. */
  nft(script: string): Promise<void>;
  /** `nft list tables` output (listing creates nothing, unlike iptables-nft). */
  nftTables(): Promise<string>;
  iptables(args: string[]): Promise<{ ok: boolean; stderr: string }>;
  /** IPv4 routes of the host's main table, to keep new subnets off them. */
  routes(): Promise<Cidr[]>;
  linkExists(name: string): boolean;
  sysctl(key: string, value: string): Promise<void>;
  /** Who listens on a host port (`ss`), for an error message; '' when unknown. */
  portHolder(proto: string, port: number): Promise<string>;
}

function exec(cmd: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.stdin.on('error', () => undefined); // the tool may exit before reading its input
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

async function must(what: string, cmd: string, args: string[], input?: string): Promise<string> {
  const r = await exec(cmd, args, input);
  if (r.code !== 0) throw new Error(`${what}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r.stdout;
}

const batch = (commands: string[]) => `${commands.join('\n')}\n`;

export class LinuxNetHost implements NetHost {
  async ip(commands: string[], opts: { force?: boolean } = {}): Promise<void> {
    if (commands.length === 0) return;
    if (opts.force) {
      await exec('ip', ['-force', '-batch', '-'], batch(commands));
      return;
    }
    await must('ip', 'ip', ['-batch', '-'], batch(commands));
  }

  async ipIn(nsPath: string, commands: string[]): Promise<void> {
    await must('ip (container namespace)', 'nsenter', [`--net=${nsPath}`, 'ip', '-batch', '-'], batch(commands));
  }

  // rtnetlink: the hot path of `run` (no process: a spawn blocks hakod ~1.2 ms and takes a CPU
  // from runc). `ip` only when the addon is not built.
  #hostNl = -1;
  readonly #netlink: boolean;
  readonly #libnftables: boolean;
  #nftQueue: Promise<unknown> = Promise.resolve();

  /**
   * `netlink: false` sets endpoints up with `ip`, `libnftables: false` applies rule scripts by
   * spawning `nft`, even when the addon could do it (tests compare both).
   */
  constructor(o: { netlink?: boolean; libnftables?: boolean } = {}) {
    this.#netlink = o.netlink ?? true;
    this.#libnftables = o.libnftables ?? true;
  }

  #nl(): NativeAddon | null {
    const addon = this.#netlink ? tryNative() : null;
    // An addon built from an older tree has no netlink calls: `ip` then, as without an addon.
    return addon && typeof addon.netlinkTalk === 'function' ? addon : null;
  }

  async plugContainer(nsPath: string, links: readonly ContainerLink[], o: { loopback?: boolean } = {}): Promise<void> {
    const addon = this.#nl();
    if (!addon) {
      await this.ipIn(nsPath, containerIpCommands(links, { loopback: Boolean(o.loopback) }));
      return;
    }
    const fd = addon.netlinkOpen(nsPath);
    try {
      // One datagram makes the pairs and reads back their indexes (the kernel runs a batch in order).
      const made = talk(addon, fd, [
        ...(o.loopback ? [nl.setLinkUp('lo')] : []),
        ...links.map((l) => nl.newVeth({ name: l.ifname, mac: l.mac, peer: l.peer, peerNsPid: process.pid })),
        ...links.map((l) => nl.getLink(l.ifname)),
      ]);
      const index = made.map(nl.linkIndex);
      if (index.length !== links.length) throw new Internal(`netlink: ${links.length} links made, ${index.length} found`);
      talk(addon, fd, links.flatMap((l, i) => [
        nl.addAddress4(index[i]!, l.ip, l.prefix, l.ifname),
        nl.setLinkUp(l.ifname),
        ...(l.gateway ? [nl.addDefaultRoute4(index[i]!, l.gateway, l.ifname)] : []),
      ]));
    } finally {
      closeSync(fd);
    }
  }

  async plugHost(ports: readonly BridgePort[]): Promise<void> {
    if (ports.length === 0) return;
    const addon = this.#nl();
    if (!addon) {
      await this.ip(hostIpCommands(ports));
      return;
    }
    if (this.#hostNl < 0) this.#hostNl = addon.netlinkOpen(null);
    const fd = this.#hostNl;
    const bridges = [...new Set(ports.map((p) => p.bridge))];
    const index = new Map(talk(addon, fd, bridges.map((b) => nl.getLink(b))).map((r, i) => [bridges[i]!, nl.linkIndex(r)]));
    talk(addon, fd, [
      ...ports.map((p) => ({ ...nl.setLinkUp(p.peer, { master: index.get(p.bridge)! }), what: `attaching ${p.peer} to bridge ${p.bridge}` })),
      // Slave data needs the port on its bridge already: after every master of the batch.
      ...ports.filter((p) => p.hairpin).map((p) => nl.setHairpin(p.peer, true)),
    ]);
  }

  /** Closes the host's netlink socket (hakod stops). */
  close(): void {
    if (this.#hostNl >= 0) closeSync(this.#hostNl);
    this.#hostNl = -1;
  }

  async createNetns(nsPath: string): Promise<void> {
    await (await open(nsPath, 'w', 0o444)).close();
    try {
      // In-process (~0.5 ms) on the `run` hot path; unshare(1) (~5 ms) while the addon is not built.
      const addon = tryNative();
      if (addon) addon.newNetns(nsPath);
      else await must('network namespace', 'unshare', [`--net=${nsPath}`, 'true']);
    } catch (err) {
      await this.removeNetns(nsPath);
      throw err;
    }
  }

  async removeNetns(nsPath: string): Promise<void> {
    try {
      native().umount2(nsPath, MNT_DETACH);
    } catch {
      // Not mounted (a half-made namespace, or already removed).
    }
    await unlink(nsPath).catch(() => undefined);
  }

  /**
   * Applies an `nft -f` script: in-process through libnftables when the addon has it (~0.8 ms for
   * a few containers' ports; a spawned `nft` blocks hakod ~1.3 ms to fork and takes ~15 ms), else
   * by spawning `nft -f -`. Either way a failure reads `nft: <nft's own message>`. Scripts run one
   * after another in the order asked, so the last ruleset asked for is the one that stays.
   */
  nft(script: string): Promise<void> {
    const run = this.#nftQueue.then(() => this.#nftNow(script));
    this.#nftQueue = run.catch(() => undefined);
    return run;
  }

  async #nftNow(script: string): Promise<void> {
    const addon = this.#libnftables ? tryNative() : null;
    if (!addon?.nftRun) {
      await must('nft', 'nft', ['-f', '-'], script);
      return;
    }
    try {
      await addon.nftRun(script);
    } catch (err) {
      throw new Error(`nft: ${(err as Error).message}`, { cause: err });
    }
  }

  async nftTables(): Promise<string> {
    const addon = this.#libnftables ? tryNative() : null;
    if (addon?.nftRun) return addon.nftRun('list tables\n');
    return (await exec('nft', ['list', 'tables'])).stdout;
  }

  async iptables(args: string[]): Promise<{ ok: boolean; stderr: string }> {
    const r = await exec('iptables', ['-w', ...args]);
    return { ok: r.code === 0, stderr: r.stderr };
  }

  async routes(): Promise<Cidr[]> {
    const text = await readFile('/proc/net/route', 'utf8').catch(() => '');
    const out: Cidr[] = [];
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 8) continue;
      const dest = le(f[1]!);
      const m = le(f[7]!);
      if (dest === 0 && m === 0) continue; // the default route overlaps everything
      let bits = 0;
      for (let b = 31; b >= 0 && (m >>> b) & 1; b--) bits++;
      out.push(parseCidr(`${dot((dest & (bits ? (0xffffffff << (32 - bits)) >>> 0 : 0)) >>> 0)}/${bits}`));
    }
    return out;
  }

  linkExists(name: string): boolean {
    // /proc/self/net is this process's network namespace; /sys/class/net is the one sysfs was
    // mounted in, which is not ours when hakod runs under `nsenter --net`.
    try {
      return readFileSync('/proc/self/net/dev', 'utf8').split('\n').some((l) => l.trimStart().startsWith(`${name}:`));
    } catch {
      return existsSync(`/sys/class/net/${name}`);
    }
  }

  async sysctl(key: string, value: string): Promise<void> {
    const path = `/proc/sys/${key.replace(/\./g, '/')}`;
    const cur = (await readFile(path, 'utf8').catch(() => '')).trim();
    if (cur !== value) await writeFile(path, value);
  }

  async portHolder(proto: string, port: number): Promise<string> {
    const r = await exec('ss', ['-Hnp', proto === 'udp' ? '-lu' : '-lt', `sport = :${port}`]).catch(() => null);
    const m = r && /users:\(\("([^"]+)",pid=(\d+)/.exec(r.stdout);
    return m ? `${m[1]} (pid ${m[2]})` : '';
  }
}

/** One netlink batch; a failed message becomes an error naming what it did and the kernel's reason. */
function talk(addon: NativeAddon, fd: number, reqs: readonly nl.NlRequest[]): Buffer[] {
  try {
    return addon.netlinkTalk(fd, nl.batch(reqs));
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { index?: number; extack?: string };
    const req = e.index !== undefined ? reqs[e.index] : undefined;
    if (!req) throw err;
    const reason = /^\w+: (.*?), netlink message/.exec(e.message)?.[1] ?? e.message;
    const msg = `${req.what}: ${reason.toLowerCase()}${e.extack ? ` (${e.extack})` : ''} [${e.code}]`;
    throw e.code === 'EEXIST' ? new Conflict(msg, { cause: err }) : new Internal(msg, { cause: err });
  }
}

/** /proc/net/route's little-endian hex. */
function le(hex: string): number {
  const n = parseInt(hex, 16);
  return (((n & 255) << 24) | (((n >>> 8) & 255) << 16) | (((n >>> 16) & 255) << 8) | ((n >>> 24) & 255)) >>> 0;
}

function dot(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
