/**
 * Test images without the internet: a busybox-static rootfs (Debian's busybox-static, /bin/busybox)
 * with every applet linked in /bin, an /etc/passwd and /etc/group that know root, nobody and a
 * uid 1001 "app" user, as a directory or as a rootfs tarball to `import`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, copyFileSync, writeFileSync, chmodSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export const BUSYBOX = process.env.HAKO_TEST_BUSYBOX ?? '/bin/busybox';

/** Fills `dir` (created if missing) with a busybox rootfs. */
export function makeBusyboxRootfs(dir: string): string {
  for (const sub of ['bin', 'etc', 'tmp', 'root', 'proc', 'sys', 'dev', 'home/app', 'var']) {
    mkdirSync(join(dir, sub), { recursive: true });
  }
  chmodSync(join(dir, 'tmp'), 0o1777);
  copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  execFileSync(join(dir, 'bin/busybox'), ['--install', '-s', join(dir, 'bin')]);
  // --install -s links to the absolute path given; make the links relative to the rootfs.
  const applets = execFileSync(join(dir, 'bin/busybox'), ['--list']).toString().trim().split('\n');
  for (const a of applets) {
    if (a === 'busybox') continue;
    rmSync(join(dir, 'bin', a), { force: true });
    execFileSync('ln', ['-s', 'busybox', join(dir, 'bin', a)]);
  }
  writeFileSync(join(dir, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\napp:x:1001:1001:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\napp:x:1001:\nnogroup:x:65534:\n');
  execFileSync('chown', ['1001:1001', join(dir, 'home/app')]);
  return dir;
}

/** Writes a rootfs tarball of a busybox rootfs to `tarPath` and returns it. */
export function makeBusyboxTar(tarPath: string): string {
  const work = mkdtempSync(join(tmpdir(), 'hako-busybox-'));
  try {
    makeBusyboxRootfs(work);
    execFileSync('tar', ['-C', work, '--numeric-owner', '-cf', tarPath, '.']);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return tarPath;
}

let sharedTarball: string | undefined;
let sharedTarBytes: Buffer | undefined;

/** One busybox rootfs tarball per test process (it takes a moment), removed when the process exits. */
export function busyboxTarball(): string {
  if (!sharedTarball) {
    const dir = mkdtempSync(join(tmpdir(), 'hako-bb-'));
    sharedTarball = makeBusyboxTar(join(dir, 'busybox.tar'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return sharedTarball;
}

/** The bytes of `busyboxTarball()`, for tests that import it from memory many times. */
export function busyboxTarBytes(): Buffer {
  sharedTarBytes ??= readFileSync(busyboxTarball());
  return sharedTarBytes;
}
