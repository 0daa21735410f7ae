/**
 * A real engine in a temp data root and exec root, with the busybox image imported as
 * `busybox:latest`. Every test that uses one calls `close()` in `after`/`finally`: it removes
 * the containers it made (killing their processes), unmounts, and deletes both roots.
 * `engineForFile()` is that preamble for a file whose tests share one engine; `runToExit` the
 * create-start-wait-logs of a container run to its end.
 */
import { mkdtempSync, createReadStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { after, before } from 'node:test';
import { buildEngine } from '../../src/daemon/wire.js';
import type { Engine, Json } from '../../src/engine/index.js';
import { busyboxTarball } from './busybox.js';

export interface TestEngine {
  engine: Engine;
  root: string;
  dataRoot: string;
  execRoot: string;
  close(): Promise<void>;
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

/**
 * One engine for all the tests of a file (or of the `describe` it is called in): started in
 * `before`, closed in `after` (a file with more to undo registers its own hooks as well). Its
 * fields are read inside tests, once `before` ran.
 */
export function engineForFile(): TestEngine {
  let current: TestEngine | undefined;
  before(async () => {
    current = await startTestEngine();
  });
  after(async () => {
    await current?.close();
  });
  const started = (): TestEngine => {
    if (!current) throw new Error('the test engine is started in before(): read it inside a test or hook');
    return current;
  };
  return {
    get engine() { return started().engine; },
    get root() { return started().root; },
    get dataRoot() { return started().dataRoot; },
    get execRoot() { return started().execRoot; },
    close: () => started().close(),
  };
}

/** A container's whole log, both streams, without following. */
export const ALL_LOGS = { follow: false, stdout: true, stderr: true, since: 0, until: 0, timestamps: false, tail: 'all' as const, details: false };

export interface RunToExitResult {
  id: string;
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Creates a container from `body` (busybox unless it names an `Image`), starts it and waits for
 * its exit; answers its exit code and logs. It is removed afterwards (also when create's
 * followers fail) unless `keep`, for tests that look at it or its volumes after the exit.
 */
export async function runToExit(t: TestEngine, body: Json, opts: { name?: string; keep?: boolean } = {}): Promise<RunToExitResult> {
  const c = t.engine.containers;
  const { Id } = await c.create({ Image: 'busybox', ...body }, opts.name ? { name: opts.name } : {});
  try {
    const waited = c.wait(Id, 'next-exit');
    await c.start(Id);
    const code = (await waited).StatusCode;
    return { id: Id, code, ...(await collect((await c.logs(Id, ALL_LOGS)).entries)) };
  } finally {
    if (!opts.keep) await c.remove(Id, { force: true });
  }
}

/** Collects a session's or log iterable's output as text per stream. */
export async function collect(iter: AsyncIterable<{ stream: 'stdout' | 'stderr'; data: Buffer }>): Promise<{ stdout: string; stderr: string }> {
  const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  for await (const c of iter) out[c.stream].push(c.data);
  return { stdout: Buffer.concat(out.stdout).toString(), stderr: Buffer.concat(out.stderr).toString() };
}
