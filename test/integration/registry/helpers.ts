/**
 * Registries for the registry tests, all on 127.0.0.1 with port 0: hako's own server, Debian's
 * docker-registry (distribution) with htpasswd auth, and a token server for the Bearer flow.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRegistryServer } from '../../../src/registry/index.js';
import type { Json } from '../../../src/engine/index.js';

export interface Running {
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

export async function startHakoRegistry(opts: { htpasswd?: string } = {}): Promise<Running & { root: string }> {
  const root = mkdtempSync(join(tmpdir(), 'hako-reg-'));
  const { server } = await createRegistryServer({ root, htpasswd: opts.htpasswd });
  const port = await listen(server);
  return {
    host: `127.0.0.1:${port}`, port, root,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export { freePort } from '../../support/network-cli.js';
import { freePort } from '../../support/network-cli.js';

/** htpasswd file with one bcrypt user (htpasswd from apache2-utils). */
export function htpasswdFile(dir: string, user: string, password: string): string {
  const path = join(dir, 'htpasswd');
  writeFileSync(path, execFileSync('htpasswd', ['-nbB', user, password]).toString());
  return path;
}

/** Debian's docker-registry (distribution 2.x) with htpasswd auth, or with a token realm. */
export async function startDistribution(opts: { htpasswd?: string; token?: { realm: string; service: string; issuer: string; rootCert: string } } = {}): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'hako-distribution-'));
  const port = await freePort();
  const auth = opts.htpasswd ? `auth:\n  htpasswd:\n    realm: test-realm\n    path: ${opts.htpasswd}\n`
    : opts.token ? `auth:\n  token:\n    realm: ${opts.token.realm}\n    service: ${opts.token.service}\n    issuer: ${opts.token.issuer}\n    rootcertbundle: ${opts.token.rootCert}\n` : '';
  writeFileSync(join(dir, 'config.yml'), `version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
${auth}`);
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  // Ready when /v2/ answers (200 or 401).
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((r) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/v2/' }, (res) => { res.resume(); r(true); });
      req.on('error', () => r(false));
    });
    if (ok) break;
    if (child.exitCode !== null || i > 200) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`docker-registry did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    host: `127.0.0.1:${port}`, port,
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Collects progress messages of a pull/push. */
export function recorder(): { messages: Json[]; progress: (m: Json) => void; statuses(): string[] } {
  const messages: Json[] = [];
  return { messages, progress: (m) => { messages.push(m); }, statuses: () => messages.map((m) => String(m.status ?? '')) };
}
