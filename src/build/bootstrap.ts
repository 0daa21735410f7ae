/**
 * `hako image bootstrap`: a Debian base image made here, without any image registry. The daemon
 * runs Debian's debootstrap into a temp dir under its data root, trims the tree the way Docker's
 * official debian images are trimmed (debuerreotype's minimizing config: no apt lists, an
 * exit-101 policy-rc.d, empty /dev), and commits it through the image service as a one-layer
 * image with Docker's two history entries (the layer, then `CMD ["bash"]`) — so the daemon stays the only writer of images, and `save`, `push`, `history` treat it as
 * any other image.
 */
import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { InvalidArgument, Unavailable, Internal } from '../errdefs/index.js';
import { parseReference, type CommitOptions } from '../images/index.js';
import { tarDirectory } from '../storage/index.js';

const execFileP = promisify(execFile);

export interface BootstrapOptions {
  /** Image name; `tag` defaults to the suite. */
  repo: string;
  tag?: string;
  /** Debian suite or codename. Default "bookworm". */
  suite?: string;
  /** debootstrap --variant: "minbase" (default, what Docker's debian images hold), "buildd", or "" for debootstrap's own default. */
  variant?: string;
  /** Extra packages (debootstrap --include). */
  include?: string[];
  /** Debian mirror URL. Default: the host's first Debian mirror in /etc/apt (else deb.debian.org). */
  mirror?: string;
  signal?: AbortSignal;
}

export interface BootstrapDeps {
  /** The daemon's temp dir (emptied on start); the rootfs is made under it. */
  tmpDir: string;
  images: { commit(opts: CommitOptions): Promise<{ Id: string }> };
  /** Where apt's sources are (default /etc/apt); tests point it elsewhere. */
  aptDir?: string;
}

/** Docker's debian images: `PATH` as the Go default and `CMD ["bash"]`. */
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const VARIANTS = new Set(['', 'minbase', 'buildd']);

/** Runs debootstrap and commits the tree; `progress` gets one line at a time; returns the image id. */
export async function bootstrapImage(deps: BootstrapDeps, opts: BootstrapOptions, progress: (line: string) => void): Promise<string> {
  // Everything that can be refused is refused before anything is downloaded.
  const suite = opts.suite || 'bookworm';
  if (!/^[a-z][a-z0-9.-]*$/.test(suite)) throw new InvalidArgument(`bootstrap: invalid suite "${suite}": use a Debian codename such as bookworm`);
  const variant = opts.variant ?? 'minbase';
  if (!VARIANTS.has(variant)) throw new InvalidArgument(`bootstrap: invalid variant "${variant}": use minbase or buildd`);
  const include = (opts.include ?? []).flatMap((p) => p.split(',')).map((p) => p.trim()).filter((p) => p !== '');
  for (const p of include) {
    if (!/^[a-z0-9][a-z0-9+.-]+$/.test(p)) throw new InvalidArgument(`bootstrap: invalid package name "${p}" in --include`);
  }
  const tag = opts.tag || suite;
  try {
    parseReference(`${opts.repo}:${tag}`);
  } catch (err) {
    throw new InvalidArgument(`bootstrap: invalid image name "${opts.repo}:${tag}": ${(err as Error).message}`);
  }
  const mirror = (opts.mirror || (await hostDebianMirror(deps.aptDir ?? '/etc/apt'))).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(mirror)) throw new InvalidArgument(`bootstrap: mirror "${mirror}" is not an http(s) URL`);
  const debootstrap = await findDebootstrap();
  await checkSuite(mirror, suite, opts.signal);

  const work = await mkdtemp(join(deps.tmpDir, 'bootstrap-'));
  const rootfs = join(work, 'rootfs');
  try {
    await mkdir(rootfs, { mode: 0o755 });
    const args = [
      ...(variant ? [`--variant=${variant}`] : []),
      ...(include.length > 0 ? [`--include=${include.join(',')}`] : []),
      suite, rootfs, mirror,
    ];
    progress(`debootstrap ${args.join(' ')}`);
    const started = Date.now();
    await runDebootstrap(debootstrap, args, rootfs, progress, opts.signal);
    progress(`debootstrap finished in ${((Date.now() - started) / 1000).toFixed(1)} s; trimming the tree`);
    await unmountUnder(rootfs);
    await minimize(rootfs);
    const version = await debootstrapVersion();
    const how = `debootstrap${version ? ` ${version}` : ''}${variant ? ` --variant=${variant}` : ''}${include.length > 0 ? ` --include=${include.join(',')}` : ''} ${suite} ${mirror}`;
    progress('committing the root filesystem as a one-layer image');
    // Two history entries, as Docker's debian images have (their Dockerfile is `FROM scratch`,
    // `ADD rootfs.tar.xz /`, `CMD ["bash"]`): the layer saying how it was made, then CMD as an
    // empty layer — committed as the legacy builder would, the layer's image as the parent.
    const layer = await deps.images.commit({
      parentId: null,
      layerTar: tarDirectory(rootfs, opts.signal ? { signal: opts.signal } : {}),
      config: { Env: [DEFAULT_PATH] },
      createdBy: `hako image bootstrap --suite ${suite}${variant ? ` --variant ${variant}` : ''}${include.length > 0 ? ` --include ${include.join(',')}` : ''} --mirror ${mirror}`,
      comment: `made with ${how}`,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const { Id } = await deps.images.commit({
      parentId: layer.Id,
      layerTar: null,
      config: { Env: [DEFAULT_PATH], Cmd: ['bash'] },
      repo: opts.repo,
      tag,
      createdBy: '/bin/sh -c #(nop)  CMD ["bash"]',
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return Id;
  } finally {
    await unmountUnder(rootfs).catch(() => {});
    await rm(work, { recursive: true, force: true });
  }
}

async function findDebootstrap(): Promise<string> {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin'].filter((d) => d !== '');
  for (const d of dirs) {
    const p = join(d, 'debootstrap');
    try {
      await access(p, fsConstants.X_OK);
      return p;
    } catch { /* next */ }
  }
  throw new Unavailable('bootstrap: debootstrap is not installed on the daemon\'s host: install the Debian package "debootstrap" (apt-get install debootstrap)');
}

async function debootstrapVersion(): Promise<string> {
  try {
    const { stdout } = await execFileP('dpkg-query', ['-W', '-f=${Version}', 'debootstrap']);
    return stdout.trim();
  } catch {
    return '';
  }
}

/**
 * The first Debian archive (not -security, not -updates-only) among apt's sources, one-line
 * sources.list or deb822 `.sources`; http://deb.debian.org/debian when none.
 */
export async function hostDebianMirror(aptDir: string): Promise<string> {
  const uris: string[] = [];
  const read = async (p: string) => { try { return await readFile(p, 'utf8'); } catch { return ''; } };
  for (const line of (await read(join(aptDir, 'sources.list'))).split('\n')) {
    const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(line);
    if (m?.[1]) uris.push(m[1]);
  }
  let files: string[] = [];
  try { files = (await readdir(join(aptDir, 'sources.list.d'))).sort(); } catch { /* none */ }
  for (const f of files) {
    const text = await read(join(aptDir, 'sources.list.d', f));
    if (f.endsWith('.list')) {
      for (const line of text.split('\n')) {
        const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(line);
        if (m?.[1]) uris.push(m[1]);
      }
    } else if (f.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        if (!/^Types:.*\bdeb\b/mi.test(stanza) || /^Enabled:\s*no/mi.test(stanza)) continue;
        const m = /^URIs:\s*(.+)$/mi.exec(stanza);
        if (m?.[1]) uris.push(...m[1].trim().split(/\s+/));
      }
    }
  }
  return uris.find((u) => /^https?:\/\//.test(u) && /\/debian\/?$/.test(u)) ?? 'http://deb.debian.org/debian';
}

/** One request for the suite's Release file: tells "mirror down" from "no such suite" before debootstrap starts. */
async function checkSuite(mirror: string, suite: string, signal?: AbortSignal): Promise<void> {
  const url = `${mirror}/dists/${suite}/Release`;
  let status: number;
  try {
    const timeout = AbortSignal.timeout(10_000);
    const res = await fetch(url, { method: 'HEAD', signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    status = res.status;
  } catch (err) {
    const cause = (err as { cause?: { message?: string; code?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new Unavailable(`bootstrap: Debian mirror ${mirror} is unreachable (${why}); pass --mirror URL of a mirror this host reaches`);
  }
  if (status === 404) throw new InvalidArgument(`bootstrap: suite "${suite}" not found on ${mirror} (no dists/${suite}/Release); use a Debian codename such as bookworm`);
  if (status >= 400) throw new Unavailable(`bootstrap: Debian mirror ${mirror} answered ${status} for dists/${suite}/Release`);
}

async function runDebootstrap(bin: string, args: string[], rootfs: string, progress: (line: string) => void, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' } });
  const tail: string[] = [];
  const onLine = (line: string) => {
    if (line === '') return;
    tail.push(line);
    if (tail.length > 20) tail.shift();
    progress(line);
  };
  const lines = (stream: NodeJS.ReadableStream) => {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      parts.forEach(onLine);
    });
    stream.on('end', () => onLine(partial));
  };
  lines(child.stdout);
  lines(child.stderr);
  const onAbort = () => { child.kill('SIGTERM'); };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const result = await new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, sig) => resolve({ code, sig }));
    });
    signal?.throwIfAborted();
    if (result.code !== 0) {
      const log = await readFile(join(rootfs, 'debootstrap', 'debootstrap.log'), 'utf8').catch(() => '');
      const logTail = log.split('\n').filter((l) => l !== '').slice(-15).join('\n');
      throw new Internal(`bootstrap: debootstrap failed (${result.sig ?? `exit code ${result.code}`}):\n${tail.join('\n')}${logTail ? `\n--- debootstrap.log ---\n${logTail}` : ''}`);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** debootstrap mounts /proc and /sys in the target; a killed run may leave them. */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\040/g, ' '))
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
  for (const m of mounts.reverse()) {
    await execFileP('umount', ['-l', m]).catch(() => {});
  }
}

/**
 * What debuerreotype does to Docker's official debian images (debuerreotype-minimizing-config,
 * debuerreotype-slimify is not applied): no service starts during `apt-get install`, apt cleans
 * its caches and skips translations; no package lists, logs or host files (resolv.conf,
 * hostname: the runtime provides them) travel in the image; /dev is empty (runc populates it).
 */
async function minimize(rootfs: string): Promise<void> {
  const p = (rel: string) => join(rootfs, rel);
  await writeFile(p('usr/sbin/policy-rc.d'), '#!/bin/sh\n# Services are not started while images build (debuerreotype-minimizing-config).\nexit 101\n', { mode: 0o755 });
  await mkdir(p('etc/apt/apt.conf.d'), { recursive: true });
  await writeFile(p('etc/apt/apt.conf.d/docker-clean'), [
    'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };',
    'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };',
    'Dir::Cache::pkgcache "";',
    'Dir::Cache::srcpkgcache "";',
    '',
  ].join('\n'));
  await writeFile(p('etc/apt/apt.conf.d/docker-no-languages'), 'Acquire::Languages "none";\n');
  await writeFile(p('etc/apt/apt.conf.d/docker-gzip-indexes'), 'Acquire::GzipIndexes "true";\nAcquire::CompressionTypes::Order:: "gz";\n');
  await writeFile(p('etc/apt/apt.conf.d/docker-autoremove-suggests'), 'Apt::AutoRemove::SuggestsImportant "false";\n');
  await emptyDir(p('var/lib/apt/lists'), (n) => n !== 'partial' && n !== 'lock');
  await emptyDir(p('var/cache/apt'), (n) => n.endsWith('.bin'));
  await emptyDir(p('var/cache/apt/archives'), (n) => n.endsWith('.deb'));
  await emptyDir(p('var/log'), (n) => /\.log$/.test(n));
  await emptyDir(p('var/log/apt'), () => true);
  await emptyDir(p('dev'), () => true);
  await rm(p('debootstrap'), { recursive: true, force: true });
  await writeFile(p('etc/resolv.conf'), '');
  await writeFile(p('etc/hostname'), '');
  await writeFile(p('etc/machine-id'), '').catch(() => {});
}

async function emptyDir(dir: string, which: (name: string) => boolean): Promise<void> {
  let names: string[];
  try { names = await readdir(dir); } catch { return; }
  for (const n of names) if (which(n)) await rm(join(dir, n), { recursive: true, force: true });
}
