/**
 * The one seam to the operating system for networking: `ip` (iproute2, in batch mode so a
 * container's whole set-up is one or two processes), `unshare` for persistent network
 * namespaces, `nft`, `iptables`, /proc and /sys. Everything above it builds commands as text.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile, unlink, open } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { native, tryNative, MNT_DETACH } from '../native/index.js';
import { parseCidr, type Cidr } from './cidr.js';

export interface NetHost {
  /** Runs `ip -batch -` on the host; with `force`, errors do not stop the batch nor throw. */
  ip(commands: string[], opts?: { force?: boolean }): Promise<void>;
  /** Runs `ip -batch -` inside the network namespace bound at `nsPath`. */
  ipIn(nsPath: string, commands: string[]): Promise<void>;
  /** Creates an empty network namespace bound at `nsPath` (it outlives hakod). */
  createNetns(nsPath: string): Promise<void>;
  removeNetns(nsPath: string): Promise<void>;
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

  async nft(script: string): Promise<void> {
    await must('nft', 'nft', ['-f', '-'], script);
  }

  async nftTables(): Promise<string> {
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

/** /proc/net/route's little-endian hex. */
function le(hex: string): number {
  const n = parseInt(hex, 16);
  return (((n & 255) << 24) | (((n >>> 8) & 255) << 16) | (((n >>> 16) & 255) << 8) | ((n >>> 24) & 255)) >>> 0;
}

function dot(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
