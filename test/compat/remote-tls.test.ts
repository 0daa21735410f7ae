/**
 * The real docker CLI against hakod on tcp://127.0.0.1:<free port> with --tlsverify, as against a
 * remote dockerd: `docker --tlsverify --tlscacert … -H tcp://…`, DOCKER_HOST + DOCKER_TLS_VERIFY +
 * DOCKER_CERT_PATH, the hijacked exec over TLS, a followed log, a client without a certificate
 * refused, and `docker compose` (hako's plugin) inheriting the TLS settings.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER, REPO_ROOT, run, startHakod, type Hakod, type RunOptions } from '../support/hakod.js';
import { makeTestCerts, type TestCerts } from '../support/tls-certs.js';
import { freePort } from '../support/network-cli.js';
import { ok } from './expect.js';

let d: Hakod | undefined;
let certs: TestCerts | undefined;
let host = '';
let dir = '';
let env: Record<string, string> = {};

before(async () => {
  certs = makeTestCerts();
  host = `tcp://127.0.0.1:${await freePort()}`;
  d = await startHakod({ args: ['-H', host, '--tlsverify', '--tlscacert', certs.caCert, '--tlscert', certs.serverCert, '--tlskey', certs.serverKey] });
  env = { ...d.env } as Record<string, string>;
  for (const k of ['DOCKER_HOST', 'HAKO_HOST', 'DOCKER_TLS', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH']) delete env[k];
  const plugins = join(env.DOCKER_CONFIG as string, 'cli-plugins');
  mkdirSync(plugins, { recursive: true });
  symlinkSync(join(REPO_ROOT, 'bin/docker-compose-plugin'), join(plugins, 'docker-compose'));
  dir = mkdtempSync(join(tmpdir(), 'hako-compat-tls-compose-'));
  writeFileSync(join(dir, 'compose.yaml'), 'services:\n  web:\n    image: busybox\n    init: true\n    command: ["sh", "-c", "echo hello over tls; exec sleep 3600"]\n');
});

after(async () => {
  try {
    if (d) await docker([...tls(), 'compose', '-p', 'tlsplug', 'down', '-t', '0'], { cwd: dir, timeoutMs: 60_000 }).catch(() => undefined);
    await d?.stop();
  } finally {
    certs?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

const docker = (args: string[], o: RunOptions = {}) => run(DOCKER, args, { ...o, env: { ...env, ...o.env } });
const tls = () => ['--tlsverify', '--tlscacert', certs!.caCert, '--tlscert', certs!.clientCert, '--tlskey', certs!.clientKey, '-H', host];

test('docker --tlsverify -H tcp://… run, ps, exec -i and logs -f work against hakod', async () => {
  assert.equal(ok(await docker([...tls(), 'run', '--rm', 'busybox', 'echo', 'hi']), d), 'hi\n');
  const id = ok(await docker([...tls(), 'run', '-d', 'busybox', 'sh', '-c', 'echo started; exec sleep 60']), d).trim();
  try {
    assert.match(ok(await docker([...tls(), 'ps', '--format', '{{.ID}} {{.Status}}']), d), new RegExp(`^${id.slice(0, 12)} Up `, 'm'));
    const exec = await docker([...tls(), 'exec', '-i', id, 'sh', '-c', 'cat; echo done'], { input: 'through tls\n' });
    assert.equal(exec.stdout, 'through tls\ndone\n');
    assert.equal(exec.code, 0, exec.stderr);
  } finally {
    await docker([...tls(), 'rm', '-f', id]);
  }
  const short = ok(await docker([...tls(), 'run', '-d', 'busybox', 'sh', '-c', 'echo one; sleep 1; echo two']), d).trim();
  try {
    assert.equal(ok(await docker([...tls(), 'logs', '-f', short]), d), 'one\ntwo\n');
  } finally {
    await docker([...tls(), 'rm', '-f', short]);
  }
});

test('DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH reach hakod as they reach dockerd', async () => {
  const r = await docker(['run', '--rm', 'busybox', 'echo', 'from env'], {
    env: { DOCKER_HOST: host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs!.clientDir },
  });
  assert.equal(ok(r, d), 'from env\n');
});

test('the docker CLI without a client certificate, or without TLS, is refused', async () => {
  const noCert = await docker(['--tls', '--tlscacert', certs!.caCert, '-H', host, 'ps']);
  assert.notEqual(noCert.code, 0);
  assert.match(noCert.stderr, /certificate required|bad certificate|EOF|connection reset/);
  const plain = await docker(['-H', host, 'ps']);
  assert.notEqual(plain.code, 0);
  assert.equal(plain.stdout, '');
});

test('docker compose (hako\'s plugin) inherits --tlsverify and DOCKER_TLS_VERIFY', async () => {
  ok(await docker([...tls(), 'compose', '-p', 'tlsplug', 'up', '-d'], { cwd: dir, timeoutMs: 60_000 }), d);
  const ps = ok(await docker([...tls(), 'compose', '-p', 'tlsplug', 'ps', '--format', '{{.Name}} {{.State}}'], { cwd: dir }), d);
  assert.equal(ps, 'tlsplug-web-1 running\n');
  const logs = await docker(['compose', '-p', 'tlsplug', 'logs', 'web'], {
    cwd: dir, env: { DOCKER_HOST: host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs!.clientDir },
  });
  assert.match(ok(logs, d), /^tlsplug-web-1 +\| hello over tls$/m);
  ok(await docker([...tls(), 'compose', '-p', 'tlsplug', 'down', '-t', '0'], { cwd: dir, timeoutMs: 60_000 }), d);
  assert.equal(ok(await docker([...tls(), 'ps', '-aq']), d), '');
});
