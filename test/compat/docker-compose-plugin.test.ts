/**
 * `docker compose …` through hako's compose installed as the docker CLI's plugin: the real docker
 * CLI (28, without a Compose plugin of its own) finds bin/docker-compose-plugin linked as
 * `docker-compose` in $DOCKER_CONFIG/cli-plugins (the test hakod's own config dir), lists it, and
 * runs it against the daemon it was pointed at: by -H, by DOCKER_HOST (HAKO_HOST is not the
 * docker CLI's and must not win), or by a docker context.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER, REPO_ROOT, run, startHakod, type Hakod, type RunOptions } from '../support/hakod.js';
import { exits, ok } from './expect.js';

let d: Hakod;
let dir: string;
const PROJECTS = ['plugh', 'plugenv', 'plugint'];

before(async () => {
  d = await startHakod();
  const plugins = join(d.env.DOCKER_CONFIG as string, 'cli-plugins');
  mkdirSync(plugins, { recursive: true });
  symlinkSync(join(REPO_ROOT, 'bin/docker-compose-plugin'), join(plugins, 'docker-compose'));
  dir = mkdtempSync(join(tmpdir(), 'hako-compat-compose-plugin-'));
  // tini forwards the stop signal, so stop and down take no grace period.
  writeFileSync(join(dir, 'compose.yaml'), `services:
  web:
    image: busybox
    init: true
    command: ["sh", "-c", "echo hello from web; exec sleep 3600"]
`);
});

after(async () => {
  try {
    for (const p of PROJECTS) await d?.docker(['compose', '-p', p, 'down', '-v', '-t', '0'], { cwd: dir, timeoutMs: 60_000 }).catch(() => undefined);
    await d?.stop();
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

/** `docker -H <hakod> compose …` in the project dir; DOCKER_HOST points nowhere, so only -H can reach hakod. */
function composeH(args: string[], opts: RunOptions = {}) {
  return d.docker(['compose', ...args], { cwd: dir, timeoutMs: 60_000, ...opts, env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock', ...opts.env } });
}

/** `docker compose …` with DOCKER_HOST only (no -H); HAKO_HOST points nowhere. */
function composeEnv(args: string[], env: Record<string, string> = {}) {
  return run(DOCKER, ['compose', ...args], {
    cwd: dir, timeoutMs: 60_000, env: { ...(d.env as Record<string, string>), HAKO_HOST: 'unix:///nonexistent/hako.sock', ...env },
  });
}

test('the docker CLI lists the plugin in docker info and docker --help, and docker compose version names hako', async () => {
  const plugins = JSON.parse(ok(await d.docker(['info', '--format', '{{json .ClientInfo.Plugins}}']), d)) as Array<Record<string, string>>;
  const compose = plugins.find((p) => p.Name === 'compose');
  assert.ok(compose, JSON.stringify(plugins));
  assert.equal(compose.Vendor, 'hako');
  assert.equal(compose.Path, join(d.env.DOCKER_CONFIG as string, 'cli-plugins', 'docker-compose'));
  assert.equal(compose.Err, undefined, JSON.stringify(compose));
  assert.match(ok(await d.docker(['--help'])), /^\s+compose\*\s+Docker Compose$/m);

  const version = ok(await composeH(['version']), d);
  const [, number] = /^hako compose version v(\d+\.\d+\.\d+)\n$/.exec(version) ?? assert.fail(version);
  assert.equal(ok(await composeH(['version', '--short']), d), `${number}\n`);
  assert.deepEqual(JSON.parse(ok(await composeH(['version', '--format', 'json']), d)), { version: `v${number}` });
});

test('docker -H HOST compose up -d, ps, logs and down drive the daemon named by -H', async () => {
  ok(await composeH(['-p', 'plugh', 'up', '-d']), d);
  const ps = ok(await composeH(['-p', 'plugh', 'ps']), d);
  assert.match(ps, /^NAME +IMAGE +COMMAND +SERVICE +CREATED +STATUS +PORTS\n/);
  assert.match(ps, /^plugh-web-1 +busybox +.* web +.* Up /m);
  assert.match(ok(await composeH(['-p', 'plugh', 'logs', 'web']), d), /^plugh-web-1 +\| hello from web$/m);
  // Run by itself, the plugin takes compose's arguments, docker's -H before them (Compose v2's standalone mode).
  const standalone = await run(join(REPO_ROOT, 'bin/docker-compose-plugin'), ['-H', d.host, '-p', 'plugh', 'ps', '--format', '{{.Name}} {{.State}}'], {
    cwd: dir, env: { ...(d.env as Record<string, string>), DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
  });
  assert.equal(ok(standalone, d), 'plugh-web-1 running\n');
  ok(await composeH(['-p', 'plugh', 'down']), d);
  assert.equal(ok(await d.docker(['ps', '-aq', '--filter', 'label=com.docker.compose.project=plugh']), d), '');
});

test('docker compose with DOCKER_HOST (and a docker context) talks to that daemon, not HAKO_HOST', async () => {
  ok(await composeEnv(['-p', 'plugenv', 'up', '-d']), d);
  assert.match(ok(await composeEnv(['-p', 'plugenv', 'ps', '--format', '{{.Name}} {{.State}}']), d), /^plugenv-web-1 running$/m);
  assert.match(ok(await composeEnv(['-p', 'plugenv', 'logs']), d), /plugenv-web-1 +\| hello from web/);

  // A context made by `docker context create`, chosen with --context and with DOCKER_CONTEXT.
  ok(await run(DOCKER, ['context', 'create', 'hakotest', '--docker', `host=${d.host}`], { env: d.env as Record<string, string> }), d);
  const byFlag = await run(DOCKER, ['--context', 'hakotest', 'compose', '-p', 'plugenv', 'ps', '-q'], { cwd: dir, env: { ...(d.env as Record<string, string>), DOCKER_HOST: '' } });
  assert.match(ok(byFlag, d), /^[0-9a-f]{64}\n$/);
  assert.equal(ok(await composeEnv(['-p', 'plugenv', 'ps', '-q'], { DOCKER_HOST: '', DOCKER_CONTEXT: 'hakotest' }), d), byFlag.stdout);
  exits(await run(DOCKER, ['--context', 'nosuch', 'compose', 'ps'], { cwd: dir, env: d.env as Record<string, string> }), 1,
    /^unable to resolve docker endpoint: context "nosuch": context not found: open .*\/contexts\/meta\/[0-9a-f]{64}\/meta\.json: no such file or directory\n$/);

  ok(await composeEnv(['-p', 'plugenv', 'down']), d);
  assert.equal(ok(await d.docker(['ps', '-aq', '--filter', 'label=com.docker.compose.project=plugenv']), d), '');
});

test('an unknown flag fails as compose does, and the help names docker compose', async () => {
  const r = await composeH(['-p', 'plugh', 'up', '--bogus']);
  exits(r, 1, /^unknown flag: --bogus\n/, d);
  assert.equal(r.stdout, '');
  assert.equal(ok(await d.docker(['ps', '-aq', '--filter', 'label=com.docker.compose.project=plugh']), d), '');
  const help = ok(await composeH(['--help']), d);
  assert.match(help, /^Usage:  docker compose \[OPTIONS\] COMMAND\n/);
  exits(await composeH(['--bogus']), 125, /^unknown flag: --bogus\n\nUsage:  docker compose \[OPTIONS\] COMMAND\n/);
});

test('a sub-command\'s help and usage name docker compose', async () => {
  assert.match(ok(await composeH(['up', '--help']), d), /^Usage:  docker compose up \[OPTIONS\] \[SERVICE\.\.\.\]\n/);
  assert.doesNotMatch(ok(await composeH([]), d), /hako compose/);
  exits(await composeH(['up', '--bogus']), 1, /^unknown flag: --bogus\n\nUsage:  docker compose up /);
});

test('docker compose up interrupted without a terminal stops its containers (the CLI closes the plugin socket)', async () => {
  const child = spawn(DOCKER, ['-H', d.host, 'compose', '-p', 'plugint', 'up'], { cwd: dir, env: d.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no output from up in 30 s\nstdout: ${out}\nstderr: ${err}`)), 30_000);
      child.stdout.on('data', () => { if (/hello from web/.test(out)) { clearTimeout(timer); resolve(); } });
      child.on('close', () => { clearTimeout(timer); reject(new Error(`up exited early\nstdout: ${out}\nstderr: ${err}`)); });
    });
    // Only the docker CLI gets the signal (not its process group): the plugin learns it from the socket.
    child.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), 30_000); })]);
    clearTimeout(timer);
    assert.notEqual(code, 'timeout', `up still running 30 s after SIGINT\nstdout: ${out}\nstderr: ${err}`);
    assert.equal(code, 130, `stdout: ${out}\nstderr: ${err}`);
    assert.match(err, /Gracefully stopping\.\.\./);
    assert.match(ok(await d.docker(['ps', '-a', '--filter', 'label=com.docker.compose.project=plugint', '--format', '{{.State}}']), d), /^exited\n$/);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});
