/**
 * A real hakod for CLI tests: started on a socket in a temp root, with a busybox image imported,
 * and `hako(...)` to run the real CLI against it. Skips (returns null) when hakod cannot start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '../../../src/client/index.js';
import { makeBusyboxTar } from '../../support/busybox.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const HAKO = join(ROOT, 'bin/hako');
const HAKOD = join(ROOT, 'bin/hakod');

export interface Result { code: number; stdout: string; stderr: string; out: Buffer }

export interface Daemon {
  dir: string;
  host: string;
  hako(args: string[], opts?: { input?: string | Buffer; env?: Record<string, string>; timeoutMs?: number }): Promise<Result>;
  stop(): Promise<void>;
}

function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    try {
      spawn('umount', ['-l', m], { stdio: 'ignore' });
    } catch { /* best effort */ }
  }
}

export async function startDaemon(): Promise<Daemon | string> {
  if (!existsSync(join(ROOT, 'dist/src/daemon/wire.js'))) return 'hakod is not built (dist/src/daemon/wire.js missing)';
  if (process.getuid?.() !== 0) return 'hakod needs root';
  const dir = mkdtempSync(join(tmpdir(), 'hako-cli-it-'));
  const host = `unix://${join(dir, 'hako.sock')}`;
  const child: ChildProcess = spawn(process.execPath, [HAKOD, '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '-H', host], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => { log += d.toString(); });
  const client = createClient({ host });
  let up = false;
  for (let i = 0; i < 100 && child.exitCode === null; i++) {
    try {
      await client.ping();
      up = true;
      break;
    } catch {
      await sleep(50);
    }
  }
  client.close();
  if (!up) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    return `hakod did not start: ${log.slice(-500)}`;
  }

  const hako: Daemon['hako'] = (args, opts = {}) => new Promise((resolve, reject) => {
    // As a user runs it, through its shebang (whose `node --` keeps node 20 from taking a
    // `--env-file` anywhere in argv as its own option).
    const p = spawn(HAKO, args, {
      env: { ...process.env, HAKO_HOST: host, DOCKER_HOST: '', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      const buf = Buffer.concat(out);
      resolve({ code: code ?? (signal ? 128 : 1), stdout: buf.toString(), stderr: Buffer.concat(err).toString(), out: buf });
    });
    p.stdin.on('error', () => {});
    p.stdin.end(opts.input ?? '');
  });

  const stop = async (): Promise<void> => {
    try {
      const ids = (await hako(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
      if (ids.length) await hako(['rm', '-f', ...ids]);
    } finally {
      child.kill('SIGTERM');
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
      unmountUnder(dir);
      await sleep(100);
      rmSync(dir, { recursive: true, force: true });
    }
  };

  const tar = makeBusyboxTar(join(dir, 'busybox.tar'));
  const imp = await hako(['import', tar, 'busybox']);
  if (imp.code !== 0) {
    await stop();
    return `importing busybox failed: ${imp.stderr}`;
  }
  return { dir, host, hako, stop };
}
