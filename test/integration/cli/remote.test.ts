/**
 * `hako` against a remote daemon: hakod on tcp://127.0.0.1:<free port> with --tlsverify and
 * certificates made here with openssl; every request kind over TLS (plain requests, the hijacked
 * attach/exec upgrade, a followed log stream), DOCKER_HOST/DOCKER_TLS_VERIFY/DOCKER_CERT_PATH,
 * clients without a trusted certificate refused, and plain tcp:// with hakod's warning.
 */
import assert from 'node:assert/strict';
import { describe, test, before, after } from 'node:test';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startHakod, run, REPO_ROOT, type Hakod, type RunOptions } from '../../support/hakod.js';
import { makeTestCerts, type TestCerts } from '../../support/tls-certs.js';
import { freePort } from '../../support/network-cli.js';

const HAKO = join(REPO_ROOT, 'bin/hako');

let certs: TestCerts | undefined;
let tlsd: Hakod | undefined;
let plaind: Hakod | undefined;
let tlsHost = '';
let plainHost = '';
let env: Record<string, string> = {};

before(async () => {
  certs = makeTestCerts();
  const [tlsPort, plainPort] = [await freePort(), await freePort()];
  tlsHost = `tcp://127.0.0.1:${tlsPort}`;
  plainHost = `tcp://127.0.0.1:${plainPort}`;
  // Assigned one by one and both awaited: a daemon that started is stopped by after() even when the
  // other failed (Promise.all would reject at once and after() could run before it is assigned).
  const started = await Promise.allSettled([
    startHakod({ args: ['-H', tlsHost, '--tlsverify', '--tlscacert', certs.caCert, '--tlscert', certs.serverCert, '--tlskey', certs.serverKey] }).then((d) => { tlsd = d; }),
    startHakod({ busybox: false, args: ['-H', plainHost] }).then((d) => { plaind = d; }),
  ]);
  for (const s of started) if (s.status === 'rejected') throw s.reason;
  // Nothing but the test's flags may point the CLI anywhere.
  env = { ...tlsd!.env } as Record<string, string>;
  for (const k of ['DOCKER_HOST', 'HAKO_HOST', 'DOCKER_TLS', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH']) delete env[k];
});

after(async () => {
  await Promise.all([tlsd?.stop(), plaind?.stop()]);
  certs?.remove();
});

const hako = (args: string[], o: RunOptions = {}) => run(HAKO, args, { cwd: REPO_ROOT, ...o, env: { ...env, ...o.env } });
const tlsArgs = () => ['--tlsverify', '--tlscacert', certs!.caCert, '--tlscert', certs!.clientCert, '--tlskey', certs!.clientKey, '-H', tlsHost];

describe('hako over tcp:// with TLS', () => {
  test('run --rm prints the output over a verified TLS connection', async () => {
    const r = await hako([...tlsArgs(), 'run', '--rm', 'busybox', 'echo', 'hi']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
  });

  test('run -i and exec -i carry stdin over the hijacked TLS connection, EOF included', async () => {
    const attached = await hako([...tlsArgs(), 'run', '-i', '--rm', 'busybox', 'sh', '-c', 'cat; echo after-eof'], { input: 'line one\n' });
    assert.equal(attached.code, 0, attached.stderr);
    assert.equal(attached.stdout, 'line one\nafter-eof\n');

    const started = await hako([...tlsArgs(), 'run', '-d', 'busybox', 'sleep', '60']);
    assert.equal(started.code, 0, started.stderr);
    const id = started.stdout.trim();
    try {
      const exec = await hako([...tlsArgs(), 'exec', '-i', id, 'sh', '-c', 'cat; echo done; exit 3'], { input: 'to exec\n' });
      assert.equal(exec.stdout, 'to exec\ndone\n');
      assert.equal(exec.code, 3, exec.stderr);
      // stats opens a connection of its own per container: with the same TLS settings.
      const stats = await hako([...tlsArgs(), 'stats', '--no-stream', '--format', '{{.ID}}', id]);
      assert.equal(stats.code, 0, stats.stderr);
      assert.equal(stats.stdout, `${id.slice(0, 12)}\n`);
    } finally {
      await hako([...tlsArgs(), 'rm', '-f', id]);
    }
  });

  test('logs -f follows the container until it exits', async () => {
    const started = await hako([...tlsArgs(), 'run', '-d', 'busybox', 'sh', '-c', 'echo one; sleep 1; echo two >&2']);
    assert.equal(started.code, 0, started.stderr);
    const id = started.stdout.trim();
    try {
      const logs = await hako([...tlsArgs(), 'logs', '-f', id]);
      assert.equal(logs.code, 0, logs.stderr);
      assert.equal(logs.stdout, 'one\n');
      assert.equal(logs.stderr, 'two\n');
    } finally {
      await hako([...tlsArgs(), 'rm', '-f', id]);
    }
  });

  test('DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH are enough', async () => {
    const r = await hako(['run', '--rm', 'busybox', 'echo', 'from env'], {
      env: { DOCKER_HOST: tlsHost, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs!.clientDir },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'from env\n');
    // HAKO_HOST wins over DOCKER_HOST, as -H over both.
    const ps = await hako(['ps', '--format', '{{.Image}}'], {
      env: { HAKO_HOST: tlsHost, DOCKER_HOST: 'tcp://127.0.0.1:1', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs!.clientDir },
    });
    assert.equal(ps.code, 0, ps.stderr);
  });

  test('hako compose up, ps and down go over the same TLS connection settings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hako-tls-compose-'));
    try {
      writeFileSync(join(dir, 'compose.yaml'), 'services:\n  web:\n    image: busybox\n    init: true\n    command: ["sleep", "3600"]\n');
      const up = await hako([...tlsArgs(), 'compose', '-p', 'tlsh', 'up', '-d'], { cwd: dir, timeoutMs: 60_000 });
      assert.equal(up.code, 0, up.stderr);
      const ps = await hako([...tlsArgs(), 'compose', '-p', 'tlsh', 'ps', '--format', '{{.Name}} {{.State}}'], { cwd: dir });
      assert.equal(ps.stdout, 'tlsh-web-1 running\n', ps.stderr);
    } finally {
      const down = await hako([...tlsArgs(), 'compose', '-p', 'tlsh', 'down', '-t', '0'], { cwd: dir, timeoutMs: 60_000 });
      rmSync(dir, { recursive: true, force: true });
      assert.equal(down.code, 0, down.stderr);
    }
  });

  test('a client without a certificate, or with one from another CA, is refused', async () => {
    const noCert = await hako(['--tls', '--tlscacert', certs!.caCert, '-H', tlsHost, 'ps']);
    assert.equal(noCert.code, 1);
    assert.match(noCert.stderr, /^error during connect: tcp:\/\/127\.0\.0\.1:\d+ \(TLS\): .*certificate required/);

    const rogue = await hako(['--tlsverify', '--tlscacert', certs!.caCert, '--tlscert', certs!.rogueCert, '--tlskey', certs!.rogueKey, '-H', tlsHost, 'ps']);
    assert.equal(rogue.code, 1);
    assert.match(rogue.stderr, /^error during connect: .*\(TLS\): /);

    const plain = await hako(['-H', tlsHost, 'ps']);
    assert.equal(plain.code, 1);
    assert.match(plain.stderr, /does it require TLS/);

    assert.match(tlsd!.logTail(50), /TLS handshake with 127\.0\.0\.1:\d+ on tcp:\/\/127\.0\.0\.1:\d+ failed: peer did not return a certificate/);
    assert.match(tlsd!.logTail(50), /failed: the client spoke plain HTTP to this TLS port/);
  });

  test('a server whose certificate is not signed by --tlscacert is refused', async () => {
    const r = await hako(['--tlsverify', '--tlscacert', join(certs!.dir, 'rogue-ca.pem'), '--tlscert', certs!.clientCert, '--tlskey', certs!.clientKey, '-H', tlsHost, 'ps']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error during connect: .*\(TLS\): .*(certificate|signature)/);
  });

  test('a missing CA or key file is named before anything is sent', async () => {
    const noCa = await hako(['--tlsverify', '--tlscacert', join(certs!.dir, 'nope.pem'), '-H', tlsHost, 'ps']);
    assert.equal(noCa.code, 1);
    assert.match(noCa.stderr, /cannot read the CA certificate .*nope\.pem: no such file or directory \(name it with --tlscacert/);
    const noKey = await hako(['--tlsverify', '--tlscacert', certs!.caCert, '--tlscert', certs!.clientCert, '-H', tlsHost, 'ps'], {
      env: { DOCKER_CERT_PATH: join(certs!.dir, 'empty') },
    });
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /needs its key/);
  });
});

describe('hako over plain tcp://', () => {
  test('works, with and without the tcp:// prefix, and hakod warns that the socket is open to anyone', async () => {
    const r = await hako(['-H', plainHost, 'ps', '-a', '--format', '{{.ID}}']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const bare = await hako(['images', '--format', '{{.Repository}}'], { env: { DOCKER_HOST: plainHost.slice('tcp://'.length) } });
    assert.equal(bare.code, 0, bare.stderr);
    assert.equal(bare.stdout, '');
    const log = readFileSync(plaind!.logFile, 'utf8');
    assert.match(log, /level=warning msg="Binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network\. tcp:\/\/127\.0\.0\.1:\d+ is plain HTTP/);
    assert.doesNotMatch(readFileSync(tlsd!.logFile, 'utf8'), /without --tlsverify is insecure/);
  });

  test('nothing listening on a tcp host reads as docker\'s "Cannot connect"', async () => {
    const port = await freePort();
    const r = await hako(['-H', `tcp://127.0.0.1:${port}`, 'ps']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Cannot connect to the hako daemon at tcp://127.0.0.1:${port}. Is the hako daemon running?\n`);
  });

  test('http:// and https:// hosts are refused as the docker CLI refuses them', async () => {
    const r = await hako(['-H', 'http://127.0.0.1:2375', 'ps']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /invalid bind address format: http:\/\/127\.0\.0\.1:2375/);
  });
});
