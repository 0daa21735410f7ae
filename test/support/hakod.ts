/**
 * A real `hakod` process for compatibility and restart tests: spawned from bin/hakod on a unix
 * socket in a temp dir, with its own data root and exec root, and the busybox image imported as
 * `busybox:latest` through the real docker CLI. `docker()` runs /usr/local/bin/docker against it
 * with a throw-away DOCKER_CONFIG, so the user's ~/.docker is never read or written.
 *
 * Every test file that starts one calls `stop()` in `after()`: it removes the containers through
 * the API (restarting a daemon a test killed, so no container outlives the test), SIGTERMs the
 * one pid it spawned, unmounts what is left under the temp dir and deletes it.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { busyboxTarball } from './busybox.js';
import { networkConfigOf } from '../../src/network/index.js';

/** The checkout: this file runs as dist/test/support/hakod.js. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DOCKER = process.env.HAKO_TEST_DOCKER ?? '/usr/local/bin/docker';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the command's stdin, which is then closed. Without it stdin is /dev/null. */
  input?: string | Buffer;
  /** Keeps stdin an open pipe until the command exits (for `script`, `attach`). */
  holdStdin?: boolean;
  /** The command is killed after this long and the call rejects with what it printed. Default 15 s. */
  timeoutMs?: number;
  cwd?: string;
  env?: Record<string, string>;
}

export interface Hakod {
  /** The unix socket path and the same as a docker host (`unix:///…/hako.sock`). */
  readonly socket: string;
  readonly host: string;
  readonly root: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly logFile: string;
  /** The pid of the hakod currently running (changes on restart). */
  readonly pid: number;
  /** The environment the docker CLI runs with (DOCKER_HOST, DOCKER_CONFIG, no hints). */
  readonly env: NodeJS.ProcessEnv;
  docker(args: string[], opts?: RunOptions): Promise<RunResult>;
  hako(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** `sh -c script` with DOCKER_HOST pointing here, for pipelines like `docker export | docker import -`. */
  shell(script: string, opts?: RunOptions): Promise<RunResult>;
  /** A raw API request on the socket; the body is parsed as JSON when it is JSON. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** SIGKILLs hakod (only the pid it spawned) and waits until it is gone; containers live on. */
  kill9(): Promise<void>;
  /** Starts hakod again on the same roots and socket (stopping it first with SIGTERM if it runs). */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** The last lines of hakod's log, for assertion messages. */
  logTail(lines?: number): string;
}

export interface StartHakodOptions {
  /** Import busybox:latest before returning. Default true. */
  busybox?: boolean;
  /** Extra hakod flags. */
  args?: string[];
  /** Runs hakod in this network namespace (a name under /run/netns), e.g. to give it a FORWARD DROP of its own. */
  netns?: string;
  /** Mode of the temp dir that holds the roots (mkdtemp's 0700), e.g. 0o711 for userns-remap. */
  rootMode?: number;
}

/** Runs a command, collecting its output; rejects (after killing it) when it outlives timeoutMs. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input !== undefined || opts.holdStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    if (child.stdin) {
      child.stdin.on('error', () => undefined); // the command may exit without reading it all
      if (opts.input !== undefined) child.stdin.end(opts.input);
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')}: still running after ${timeoutMs} ms\n` +
        `stdout so far: ${JSON.stringify(Buffer.concat(out).toString())}\n` +
        `stderr so far: ${JSON.stringify(Buffer.concat(err).toString())}`));
    }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      child.stdin?.destroy();
      resolve({
        code: code ?? (signal ? 128 + (signalNumbers[signal] ?? 0) : -1),
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      });
    });
  });
}

const signalNumbers: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1 };

/** A request on a unix socket; used for the readiness probe and for clean-up. */
export function apiRequest(socket: string, method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request({
      socketPath: socket, method, path,
      headers: { Host: 'docker', ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}) },
      timeout: timeoutMs,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let parsed: unknown = text;
        try { parsed = JSON.parse(text); } catch { /* not JSON: keep the text */ }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function startHakod(opts: StartHakodOptions = {}): Promise<Hakod> {
  const root = mkdtempSync(join(tmpdir(), 'hako-compat-'));
  if (opts.rootMode !== undefined) chmodSync(root, opts.rootMode);
  const socket = join(root, 'hako.sock');
  const host = `unix://${socket}`;
  const dataRoot = join(root, 'data');
  const execRoot = join(root, 'exec');
  const logFile = join(root, 'hakod.log');
  const dockerConfig = join(root, 'docker-config');
  mkdirSync(dockerConfig);

  const baseEnv: NodeJS.ProcessEnv = { ...process.env };
  // Nothing from the caller's docker set-up may redirect or decorate the CLI.
  for (const k of ['DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_API_VERSION', 'DOCKER_DEFAULT_PLATFORM', 'DOCKER_BUILDKIT']) delete baseEnv[k];
  const env: NodeJS.ProcessEnv = { ...baseEnv, DOCKER_HOST: host, DOCKER_CONFIG: dockerConfig, DOCKER_CLI_HINTS: 'false' };
  // docker() passes -H explicitly, as the suite's commands read; DOCKER_HOST would be redundant.
  const cliEnv: NodeJS.ProcessEnv = { ...env };
  delete cliEnv.DOCKER_HOST;

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stopped = false;
  let everReady = false; // a daemon that never started has no containers to clean up

  const logTail = (lines = 40): string => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  };

  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  async function launch(): Promise<void> {
    rmSync(socket, { force: true }); // a SIGKILLed daemon leaves its socket file behind
    const fd = openSync(logFile, 'a');
    try {
      const argv = [process.execPath, join(REPO_ROOT, 'bin/hakod'), '-H', host, '--data-root', dataRoot, '--exec-root', execRoot, ...(opts.args ?? [])];
      // nsenter execs hakod: the pid stays hakod's.
      if (opts.netns) argv.unshift('nsenter', `--net=/run/netns/${opts.netns}`);
      child = spawn(argv[0]!, argv.slice(1), {
        cwd: REPO_ROOT, env: baseEnv, stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    const c = child;
    exited = new Promise((r) => c.once('exit', () => r()));
    const spawnError = new Promise<Error>((r) => c.once('error', r));
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (!alive()) {
        const why = await Promise.race([spawnError, sleep(50).then(() => undefined)]);
        throw new Error(`hakod exited before answering /_ping (code ${c.exitCode}, signal ${c.signalCode})${why ? `: ${why.message}` : ''}\n--- ${logFile} ---\n${logTail()}`);
      }
      try {
        const r = await apiRequest(socket, 'GET', '/_ping', undefined, 1000);
        if (r.status === 200) {
          everReady = true;
          return;
        }
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) {
        await terminate('SIGKILL');
        throw new Error(`hakod did not answer GET /_ping on ${socket} within 10 s\n--- ${logFile} ---\n${logTail()}`);
      }
      await sleep(20);
    }
  }

  /** Signals the pid we spawned (never anything else) and waits for it to exit. */
  async function terminate(signal: 'SIGTERM' | 'SIGKILL', graceMs = 10_000): Promise<void> {
    if (!alive()) return;
    child!.kill(signal);
    // Cleared once hakod is gone: a pending grace timer kept every test process alive ~10 s more.
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), graceMs); }),
    ]);
    clearTimeout(timer);
    if (!done) {
      child!.kill('SIGKILL');
      await exited;
    }
  }

  const docker = (args: string[], o: RunOptions = {}) =>
    run(DOCKER, ['-H', host, ...args], { ...o, env: { ...cliEnv, ...o.env } as Record<string, string> });
  const hako = (args: string[], o: RunOptions = {}) =>
    run(join(REPO_ROOT, 'bin/hako'), ['-H', host, ...args], { cwd: REPO_ROOT, ...o, env: { ...cliEnv, ...o.env } as Record<string, string> });
  const shell = (script: string, o: RunOptions = {}) =>
    run('/bin/sh', ['-c', script], { ...o, env: { ...env, ...o.env } as Record<string, string> });

  async function removeAllContainers(): Promise<void> {
    const list = await apiRequest(socket, 'GET', '/containers/json?all=1');
    if (!Array.isArray(list.body)) return;
    for (const c of list.body as Array<{ Id: string }>) {
      const r = await apiRequest(socket, 'DELETE', `/containers/${c.Id}?force=1&v=1`, undefined, 30_000).catch((e: Error) => ({ status: 0, body: e.message }));
      if (r.status >= 300) process.stderr.write(`hakod.stop: removing container ${c.Id.slice(0, 12)}: ${r.status} ${JSON.stringify(r.body)}\n`);
    }
  }

  function unmountUnder(dir: string): void {
    const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n')
      .map((l) => (l.split(' ')[1] ?? '').replace(/\\040/g, ' '))
      .filter((m) => m === dir || m.startsWith(`${dir}/`));
    for (const m of mounts.reverse()) {
      try { execFileSync('umount', ['-l', m], { stdio: 'ignore' }); } catch { /* already gone */ }
    }
  }

  const handle: Hakod = {
    socket, host, root, dataRoot, execRoot, logFile, env,
    get pid() { return child?.pid ?? -1; },
    docker, hako, shell,
    api: (method, path, body) => apiRequest(socket, method, path, body),
    logTail,
    async kill9() {
      await terminate('SIGKILL');
    },
    async restart() {
      await terminate('SIGTERM');
      await launch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        // A test that killed the daemon and failed before restarting it still leaves containers
        // under conmon: bring the daemon back so it can remove them.
        if (!alive() && everReady) await launch().catch((e: Error) => process.stderr.write(`hakod.stop: restart for clean-up failed: ${e.message}\n`));
        if (alive()) await removeAllContainers().catch((e: Error) => process.stderr.write(`hakod.stop: ${e.message}\n`));
      } finally {
        await terminate('SIGTERM');
        unmountUnder(root);
        removeNetworkLeftovers(dataRoot);
        if (existsSync(root)) rmSync(root, { recursive: true, force: true });
      }
    },
  };

  try {
    await launch();
    if (opts.busybox ?? true) {
      const r = await docker(['import', busyboxTarball(), 'busybox:latest'], { timeoutMs: 60_000 });
      if (r.code !== 0) throw new Error(`docker import of busybox failed (exit ${r.code}): ${r.stderr}\n--- ${logFile} ---\n${logTail()}`);
    }
  } catch (e) {
    await handle.stop();
    throw e;
  }
  return handle;
}

/**
 * hakod removes its default bridge and nftables table when it stops with nothing running; a
 * daemon that could not be brought back after a test killed it cannot. Whatever it left under the
 * names its data root gives is this test's litter: remove it so nothing of ours outlives the run.
 */
function removeNetworkLeftovers(dataRoot: string): void {
  const names = networkConfigOf({}, dataRoot);
  for (const args of [['ip', 'link', 'delete', names.defaultBridge], ['nft', 'delete', 'table', 'inet', names.table]]) {
    try {
      execFileSync(args[0] as string, args.slice(1), { stdio: 'ignore' });
    } catch {
      // Already gone: the daemon cleaned up after itself.
    }
  }
}
