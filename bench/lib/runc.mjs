// A raw runc bundle of the busybox rootfs: the floor under any engine's `run`.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { now } from './report.mjs';

/** Makes `dir`/bundle from the rootfs tarball with `runc spec`, running `args`. */
export function makeBundle(dir, tarPath, args) {
  const bundle = join(dir, 'bundle');
  mkdirSync(join(bundle, 'rootfs'), { recursive: true });
  execFileSync('tar', ['-C', join(bundle, 'rootfs'), '-xf', tarPath]);
  execFileSync('runc', ['spec', '--bundle', bundle]);
  const path = join(bundle, 'config.json');
  const config = JSON.parse(readFileSync(path, 'utf8'));
  config.process.args = args;
  config.process.terminal = false;
  writeFileSync(path, JSON.stringify(config, null, 2));
  return { bundle, state: join(dir, 'runc-state') };
}

/** One `runc run` (create, start, wait, delete) of the bundle; returns milliseconds. */
export function runOnce({ bundle, state }, id) {
  const t0 = now();
  const r = spawnSync('runc', ['--root', state, 'run', '--bundle', bundle, id], { stdio: ['ignore', 'ignore', 'pipe'] });
  const elapsed = now() - t0;
  if (r.status !== 0) throw new Error(`runc run ${id}: exit ${r.status ?? r.signal}: ${r.stderr}`);
  return elapsed;
}
