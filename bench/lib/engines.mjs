// The engines a benchmark compares, each started by the benchmark itself on its own socket, data
// root and exec root under a temp dir, and ended by pid: hakod (this checkout's bin/hakod) and
// dockerd (Debian's docker.io, used here only as a reference). Nothing of the machine's own
// daemons is touched.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import {
  mkdtempSync, rmSync, readFileSync, writeFileSync, openSync, closeSync, existsSync, statSync, createReadStream,
} from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import http from 'node:http';
import { listProcesses } from './procs.mjs';
import { now } from './report.mjs';

export const REPO = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');

export function requireRoot(what) {
  if (process.getuid?.() !== 0) {
    console.error(`${what}: must run as root (it starts daemons and containers)`);
    process.exit(2);
  }
}

export function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** A fresh temp dir; removeTree() takes it away again, mounts under it included. */
export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Lazily unmounts everything mounted under `dir` (deepest first), then removes it. */
export function removeTree(dir) {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}

// ---- processes we start and must end ------------------------------------------------------

const cleanups = [];
let cleaning;

/** Runs `fn` later, at exit, on failure or on Ctrl-C; last registered runs first. */
export function defer(fn) {
  cleanups.push(fn);
}

/** Runs the deferred clean-ups once; a second caller (a signal during clean-up) waits for the same run. */
export function runCleanups() {
  cleaning ??= (async () => {
    while (cleanups.length) {
      const fn = cleanups.pop();
      try {
        await fn();
      } catch (err) {
        console.error(`cleanup: ${err.message}`);
      }
    }
  })();
  return cleaning;
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.error(`\n${sig}: cleaning up`);
    runCleanups().finally(() => process.exit(130));
  });
}

/** Runs a benchmark's main, always cleaning up after it; exits 1 with the error on failure. */
export async function main(fn) {
  try {
    await fn();
  } catch (err) {
    console.error(`\nerror: ${err.stack ?? err}`);
    process.exitCode = 1;
  } finally {
    await runCleanups();
  }
}

async function stopChild(child, label) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    console.error(`${label} (pid ${child.pid}) did not stop in 30 s: killing it`);
    child.kill('SIGKILL');
  }, 30_000);
  await exited;
  clearTimeout(timer);
}

// ---- HTTP on a unix socket ------------------------------------------------------------------

/**
 * An API client on one keep-alive connection (maxSockets 1), so that a request cycle measures
 * the engine and not connection set-up.
 */
export class ApiClient {
  #socketPath;
  #agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(socketPath) {
    this.#socketPath = socketPath;
  }

  request(method, path, body) {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          socketPath: this.#socketPath,
          agent: this.#agent,
          method,
          path,
          headers: payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = undefined;
            }
            if (res.statusCode >= 400) {
              reject(new Error(`${method} ${path}: ${res.statusCode} ${json?.message ?? text}`));
            } else {
              resolve({ status: res.statusCode, json, text });
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /**
   * POSTs a file as the request body, streamed, and returns the response text. For
   * `POST /images/create?fromSrc=-`, whose JSON progress stream reports failure in-band
   * (`errorDetail`) with status 200.
   */
  upload(path, filePath) {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          socketPath: this.#socketPath, agent: this.#agent, method: 'POST', path,
          headers: { 'content-type': 'application/x-tar', 'content-length': statSync(filePath).size },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c) => { text += c; });
          res.on('end', () => {
            if (res.statusCode >= 400 || text.includes('"errorDetail"')) {
              reject(new Error(`POST ${path}: ${res.statusCode} ${text.trim()}`));
            } else {
              resolve(text);
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      createReadStream(filePath).on('error', reject).pipe(req);
    });
  }

  close() {
    this.#agent.destroy();
  }
}

async function waitForPing(socketPath, child, logPath, label, timeoutMs = 60_000) {
  const deadline = now() + timeoutMs;
  while (now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${label} exited during start-up (${child.exitCode ?? child.signalCode}):\n${tail(logPath)}`);
    }
    if (existsSync(socketPath)) {
      const api = new ApiClient(socketPath);
      try {
        await api.request('GET', '/_ping');
        return;
      } catch {
        // not serving yet
      } finally {
        api.close();
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${label} did not answer /_ping on ${socketPath} in ${timeoutMs / 1000} s:\n${tail(logPath)}`);
}

function tail(path, lines = 20) {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

// ---- engines --------------------------------------------------------------------------------

/**
 * A started engine: its name, socket, CLI argv prefix, daemon pid, and the pids that make up its
 * resident footprint (the daemon plus its per-container monitors).
 */
class Engine {
  constructor({ name, dir, socketPath, cli, child, label }) {
    this.name = name;
    this.dir = dir;
    this.socketPath = socketPath;
    this.host = `unix://${socketPath}`;
    this.cliArgv = cli;
    this.child = child;
    this.pid = child.pid;
    this.label = label;
  }

  /** Runs the engine's CLI to completion: { status, stdout, stderr, ms }. */
  cli(args, { input, check = true } = {}) {
    const [cmd, ...pre] = this.cliArgv;
    const t0 = now();
    const r = spawnSync(cmd, [...pre, ...args], { input, maxBuffer: 64 << 20, env: cliEnv() });
    const elapsed = now() - t0;
    const out = { status: r.status, stdout: r.stdout?.toString() ?? '', stderr: r.stderr?.toString() ?? '', ms: elapsed };
    if (check && r.status !== 0) {
      throw new Error(`${this.name} ${args.join(' ')}: exit ${r.status ?? r.signal}\n${out.stderr.trim()}`);
    }
    return out;
  }

  /** Spawns the engine's CLI with streaming stdout (for logs -f). */
  spawnCli(args) {
    const [cmd, ...pre] = this.cliArgv;
    return spawn(cmd, [...pre, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: cliEnv() });
  }

  api() {
    return new ApiClient(this.socketPath);
  }

  async stop() {
    await stopChild(this.child, this.label);
  }
}

function cliEnv() {
  // The CLIs are pointed at our daemon with -H; make sure nothing in the caller's environment
  // (DOCKER_HOST, HAKO_HOST, a docker context) points them elsewhere.
  const env = { ...process.env };
  delete env.DOCKER_HOST;
  delete env.DOCKER_CONTEXT;
  delete env.HAKO_HOST;
  return env;
}

class DockerEngine extends Engine {
  /** dockerd + its own containerd + one containerd-shim-runc-v2 per running container. */
  footprintPids() {
    const procs = listProcesses();
    const containerd = procs.filter((p) => p.ppid === this.pid && p.comm === 'containerd');
    const address = join(this.dir, 'exec', 'containerd', 'containerd.sock');
    const shims = procs.filter((p) => p.comm.startsWith('containerd-shim') && p.argv.includes(address));
    return { daemon: [this.pid, ...containerd.map((p) => p.pid)], monitors: shims.map((p) => p.pid) };
  }
}

class HakoEngine extends Engine {
  /**
   * Stops hakod, then force-deletes any container still in its runc root (by design they outlive
   * hakod; after a failed benchmark some may be left). All of them are ours: the root is in our
   * temp dir. Their conmons exit with them.
   */
  async stop() {
    await super.stop();
    const runcRoot = join(this.dir, 'exec', 'runc');
    if (!existsSync(runcRoot)) return;
    const ids = spawnSync('runc', ['--root', runcRoot, 'list', '-q']).stdout?.toString().split('\n').filter(Boolean) ?? [];
    for (const id of ids) spawnSync('runc', ['--root', runcRoot, 'delete', '--force', id], { stdio: 'ignore' });
  }

  /** hakod + one conmon per running container (conmon outlives hakod by design). */
  footprintPids() {
    const procs = listProcesses();
    const monitors = procs.filter((p) => p.comm === 'conmon' && p.argv.some((a) => a.startsWith(this.dir)));
    return { daemon: [this.pid], monitors: monitors.map((p) => p.pid) };
  }
}

/**
 * Starts Debian's dockerd (docker.io) with everything under a temp dir. With `networking`, it runs
 * in a network namespace of its own (`engine.netns`, removed after it) with its default bridge,
 * iptables rules and docker-proxy: its FORWARD DROP policy, docker0 and NAT chains live and die
 * there, and the host's network is left as it was.
 */
export async function startDockerd({ networking = false } = {}) {
  if (!have('dockerd')) throw new Error('dockerd not found: apt-get install -y docker.io (benchmarks only)');
  const dir = tempDir('hako-bench-docker-');
  defer(() => removeTree(dir));
  const socketPath = join(dir, 'docker.sock');
  const logPath = join(dir, 'dockerd.log');
  let netns;
  if (networking) {
    netns = `hako-bench-docker-${process.pid}`;
    execFileSync('ip', ['netns', 'add', netns]);
    defer(() => spawnSync('ip', ['netns', 'del', netns], { stdio: 'ignore' }));
    execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  }
  const log = openSync(logPath, 'a');
  const args = [
    '-H', `unix://${socketPath}`,
    '--data-root', join(dir, 'data'),
    '--exec-root', join(dir, 'exec'),
    '--pidfile', join(dir, 'dockerd.pid'),
    ...(networking ? ['--iptables=true', '--ip6tables=false'] : ['--iptables=false', '--ip6tables=false', '--bridge=none']),
  ];
  // nsenter execs dockerd: the child's pid is dockerd's.
  const child = networking
    ? spawn('nsenter', [`--net=/run/netns/${netns}`, 'dockerd', ...args], { stdio: ['ignore', log, log] })
    : spawn('dockerd', args, { stdio: ['ignore', log, log] });
  closeSync(log);
  const engine = new DockerEngine({ name: 'docker', dir, socketPath, cli: ['docker', '-H', `unix://${socketPath}`], child, label: 'dockerd' });
  engine.netns = netns;
  defer(() => engine.stop());
  await waitForPing(socketPath, child, logPath, 'dockerd');
  return engine;
}

/** Starts this checkout's hakod with everything under a temp dir. */
export async function startHakod() {
  const main = join(REPO, 'dist/src/daemon/main.js');
  if (!existsSync(main)) throw new Error(`${main} missing: build first (npm run build)`);
  const dir = tempDir('hako-bench-hako-');
  defer(() => removeTree(dir));
  const socketPath = join(dir, 'hako.sock');
  const logPath = join(dir, 'hakod.log');
  const log = openSync(logPath, 'a');
  // An empty daemon.json of its own, so that the machine's /etc/hako/daemon.json changes nothing.
  const configFile = join(dir, 'daemon.json');
  writeFileSync(configFile, '{}\n');
  const child = spawn(process.execPath, [
    join(REPO, 'bin/hakod'),
    '-H', `unix://${socketPath}`,
    '--config-file', configFile,
    '--data-root', join(dir, 'data'),
    '--exec-root', join(dir, 'exec'),
    '--pidfile', join(dir, 'hakod.pid'),
  ], { stdio: ['ignore', log, log] });
  closeSync(log);
  // bin/hako run as a user runs it (through its shebang, which keeps NODE_EXTRA_CA_CERTS out of
  // the CLI's start-up: see src/cli/extra-ca.ts).
  const engine = new HakoEngine({ name: 'hako', dir, socketPath, cli: [join(REPO, 'bin/hako'), '-H', `unix://${socketPath}`], child, label: 'hakod' });
  defer(() => engine.stop());
  await waitForPing(socketPath, child, logPath, 'hakod');
  return engine;
}

/**
 * Starts the engines named in `which` (default: all that are available). An engine that cannot
 * start is reported and left out, so the others still get measured.
 */
export async function startEngines(which = ['hako', 'docker'], { dockerNetworking = false } = {}) {
  const engines = [];
  for (const name of which) {
    try {
      engines.push(name === 'hako' ? await startHakod() : await startDockerd({ networking: dockerNetworking }));
    } catch (err) {
      console.error(`(${name} left out: ${err.message.split('\n')[0]})`);
      const detail = err.message.split('\n').slice(1).join('\n');
      if (detail) console.error(detail);
    }
  }
  return engines;
}

/** Builds the busybox test rootfs tarball (test/support/busybox.ts, compiled) at `path`. */
export async function busyboxTar(path) {
  const mod = join(REPO, 'dist/test/support/busybox.js');
  if (!existsSync(mod)) throw new Error(`${mod} missing: build first (npm run build)`);
  const { makeBusyboxTar } = await import(mod);
  return makeBusyboxTar(path);
}

/**
 * Imports the same rootfs tarball as `repo:tag` into every engine (the API of `docker import`);
 * returns the engines that have it. One that fails is reported and left out.
 */
export async function importImage(engines, tarPath, ref) {
  const colon = ref.lastIndexOf(':');
  const query = new URLSearchParams({ fromSrc: '-', repo: ref.slice(0, colon), tag: ref.slice(colon + 1) });
  const ready = [];
  for (const e of engines) {
    const api = e.api();
    try {
      await api.upload(`/images/create?${query}`, tarPath);
      ready.push(e);
    } catch (err) {
      console.error(`(${e.name} left out: importing the busybox image failed: ${err.message})`);
    } finally {
      api.close();
    }
  }
  return ready;
}

export function versionOf(cmd, args = ['--version']) {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] }).toString().split('\n')[0].trim();
  } catch {
    return 'unknown';
  }
}
