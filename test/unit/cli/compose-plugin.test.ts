/**
 * The docker CLI plugin's pure parts: which daemon `docker [OPTIONS] compose …` talks to (the one
 * the docker CLI would), and how a standalone invocation's arguments are read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseInvocation, resolveDockerHost, standaloneArgs, REEXEC_ENV } from '../../../src/cli/commands/compose-plugin.js';
import { StatusError } from '../../../src/cli/errors.js';

/** The host for `docker ARGV` (ARGV holds `compose …`) with the environment ENV. */
function hostOf(argv: string[], env: NodeJS.ProcessEnv): string {
  const full = { [REEXEC_ENV]: 'docker', ...env };
  return resolveDockerHost(parseInvocation(argv, full).globals, full);
}

function withConfigDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'hako-plugin-config-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A context as `docker context create NAME --docker host=HOST` stores it. */
function writeContext(dir: string, name: string, host: string): void {
  const meta = join(dir, 'contexts', 'meta', createHash('sha256').update(name).digest('hex'));
  mkdirSync(meta, { recursive: true });
  writeFileSync(join(meta, 'meta.json'), JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }));
}

function statusText(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StatusError, String(e));
    assert.equal(e.status, 1);
    return e.text;
  }
  assert.fail('expected a StatusError');
}

test('the plugin splits the docker CLI\'s options from compose\'s arguments', () => {
  const inv = parseInvocation(['-H', 'unix:///a.sock', '--log-level', 'warn', 'compose', '-p', 'x', 'up', '-d'], { [REEXEC_ENV]: 'docker' });
  assert.deepEqual(inv.composeArgs, ['-p', 'x', 'up', '-d']);
  assert.deepEqual(inv.globals.array('host'), ['unix:///a.sock']);
  assert.match(statusText(() => parseInvocation(['-H', 'unix:///a.sock', 'composer', 'ps'], { [REEXEC_ENV]: 'docker' })),
    /run as "docker composer", but this plugin is "docker compose"/);
});

test('-H wins, then --context, DOCKER_HOST, DOCKER_CONTEXT, the current context, and /var/run/docker.sock', () => {
  withConfigDir((dir) => {
    writeContext(dir, 'hako', 'unix:///run/hako/hako.sock');
    writeContext(dir, 'other', 'unix:///run/other.sock');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ currentContext: 'other' }));
    const env = { DOCKER_CONFIG: dir };
    assert.equal(hostOf(['-H', 'unix:///h.sock', 'compose', 'ps'], { ...env, DOCKER_HOST: 'unix:///env.sock', DOCKER_CONTEXT: 'hako' }), 'unix:///h.sock');
    assert.equal(hostOf(['--context', 'hako', 'compose', 'ps'], { ...env, DOCKER_HOST: 'unix:///env.sock' }), 'unix:///run/hako/hako.sock');
    assert.equal(hostOf(['-c', 'default', 'compose', 'ps'], { ...env, DOCKER_HOST: 'unix:///env.sock' }), 'unix:///env.sock');
    assert.equal(hostOf(['compose', 'ps'], { ...env, DOCKER_HOST: 'unix:///env.sock', DOCKER_CONTEXT: 'hako' }), 'unix:///env.sock');
    assert.equal(hostOf(['compose', 'ps'], { ...env, DOCKER_CONTEXT: 'hako' }), 'unix:///run/hako/hako.sock');
    assert.equal(hostOf(['compose', 'ps'], env), 'unix:///run/other.sock');
    assert.equal(hostOf(['--config', dir, 'compose', 'ps'], {}), 'unix:///run/other.sock');
  });
  withConfigDir((dir) => {
    assert.equal(hostOf(['compose', 'ps'], { DOCKER_CONFIG: dir, HAKO_HOST: 'unix:///run/hako/hako.sock' }), 'unix:///var/run/docker.sock');
    assert.equal(hostOf(['-H', '/tmp/d.sock', 'compose', 'ps'], { DOCKER_CONFIG: dir }), 'unix:///tmp/d.sock');
  });
});

test('a missing context, two -H and -H with --context fail with the docker CLI\'s words', () => {
  withConfigDir((dir) => {
    const env = { DOCKER_CONFIG: dir };
    const hash = createHash('sha256').update('nope').digest('hex');
    assert.equal(statusText(() => hostOf(['--context', 'nope', 'compose', 'ps'], env)),
      `unable to resolve docker endpoint: context "nope": context not found: open ${join(dir, 'contexts', 'meta', hash, 'meta.json')}: no such file or directory`);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ currentContext: 'nope' }));
    assert.match(statusText(() => hostOf(['compose', 'ps'], env)), /^unable to resolve docker endpoint: context "nope": context not found/);
    assert.equal(statusText(() => hostOf(['-H', 'unix:///a', '-H', 'unix:///b', 'compose', 'ps'], env)), 'unable to resolve docker endpoint: Specify only one -H');
    assert.equal(statusText(() => hostOf(['-H', 'unix:///a', '--context', 'x', 'compose', 'ps'], env)), 'conflicting options: cannot specify both --host and --context');
  });
});

test('standalone, the docker options before the sub-command are lifted out as Compose v2 does', () => {
  assert.deepEqual(standaloneArgs(['-H', 'unix:///a.sock', '--verbose', '-f', 'x.yml', 'up', '-d', '-H']),
    ['-H', 'unix:///a.sock', '--debug', 'compose', '-f', 'x.yml', 'up', '-d', '-H']);
  assert.deepEqual(standaloneArgs(['--context=hako', '--tlsverify', 'ps']), ['--context=hako', '--tlsverify', 'compose', 'ps']);
  assert.deepEqual(standaloneArgs(['--version']), ['compose', 'version']);
  assert.deepEqual(standaloneArgs(['-h']), ['compose', '--help']);
  assert.equal(statusText(() => standaloneArgs(['--host'])), "flag needs an argument: '--host'");
  // Without DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND the arguments are compose's.
  assert.deepEqual(parseInvocation(['-p', 'x', 'ps'], {}).composeArgs, ['-p', 'x', 'ps']);
});
