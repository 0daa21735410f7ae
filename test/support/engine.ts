/**
 * A real engine in a temp data root and exec root, with the busybox image imported as
 * `busybox:latest`. Every test that uses one calls `close()` in `after`/`finally`: it removes
 * the containers it made (killing their processes), unmounts, and deletes both roots.
 */
import { mkdtempSync, createReadStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { buildEngine } from '../../src/daemon/wire.js';
import type { Engine } from '../../src/engine/index.js';
import { makeBusyboxTar } from './busybox.js';

export interface TestEngine {
  engine: Engine;
  root: string;
  dataRoot: string;
  execRoot: string;
  close(): Promise<void>;
}

let busyboxTar: string | undefined;

/** A busybox rootfs tarball shared by the tests of one process (made once). */
export function busyboxTarball(): string {
  if (!busyboxTar) {
    const dir = mkdtempSync(join(tmpdir(), 'hako-bb-'));
    busyboxTar = makeBusyboxTar(join(dir, 'busybox.tar'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return busyboxTar;
}

export async function startTestEngine(): Promise<TestEngine> {
  // hakod's HTTP server keeps its event loop alive; a bare engine's watchers are unref'd.
  const keepAlive = setInterval(() => {}, 60_000);
  const root = mkdtempSync(join(tmpdir(), 'hako-engine-'));
  const dataRoot = join(root, 'data');
  const execRoot = join(root, 'exec');
  const built = await buildEngine({
    dataRoot, execRoot, runtime: 'runc', logLevel: 'error', hosts: [], runtimes: {},
  } as unknown as Parameters<typeof buildEngine>[0]);
  const engine = built.engine;
  await engine.images.importRootfs(createReadStream(busyboxTarball()), { repo: 'busybox', tag: 'latest' });
  return {
    engine, root, dataRoot, execRoot,
    async close() {
      try {
        for (const c of await engine.containers.list({ all: true })) {
          await engine.containers.remove(String(c.Id), { force: true }).catch(() => undefined);
        }
      } finally {
        clearInterval(keepAlive);
        await built.close();
        // Anything still mounted under the root (a failed test) must not survive it.
        try {
          const mounts = execFileSync('awk', ['{print $2}', '/proc/self/mounts']).toString().split('\n');
          for (const m of mounts.filter((p) => p.startsWith(root)).reverse()) {
            try { execFileSync('umount', ['-l', m]); } catch { /* already gone */ }
          }
        } finally {
          rmSync(root, { recursive: true, force: true });
        }
      }
    },
  };
}

/** Collects a session's or log iterable's output as text per stream. */
export async function collect(iter: AsyncIterable<{ stream: 'stdout' | 'stderr'; data: Buffer }>): Promise<{ stdout: string; stderr: string }> {
  const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  for await (const c of iter) out[c.stream].push(c.data);
  return { stdout: Buffer.concat(out.stdout).toString(), stderr: Buffer.concat(out.stderr).toString() };
}
