import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseClientHost, resolveClientTls } from '../../../src/client/remote.js';
import { makeTestCerts } from '../../support/tls-certs.js';

test('client hosts are read as the docker CLI reads them, with 2375 plain and 2376 TLS by default', () => {
  assert.deepEqual(parseClientHost('unix:///run/hako/hako.sock'), { kind: 'unix', path: '/run/hako/hako.sock', url: 'unix:///run/hako/hako.sock' });
  assert.deepEqual(parseClientHost('/var/run/docker.sock'), { kind: 'unix', path: '/var/run/docker.sock', url: 'unix:///var/run/docker.sock' });
  assert.deepEqual(parseClientHost('tcp://10.0.0.5:4243'), { kind: 'tcp', host: '10.0.0.5', port: 4243, url: 'tcp://10.0.0.5:4243' });
  assert.equal(parseClientHost('tcp://remote').url, 'tcp://remote:2375');
  assert.equal(parseClientHost('tcp://remote', true).url, 'tcp://remote:2376');
  assert.equal(parseClientHost('tcp://remote:2376/').url, 'tcp://remote:2376');
  assert.deepEqual(parseClientHost('127.0.0.1:9000'), { kind: 'tcp', host: '127.0.0.1', port: 9000, url: 'tcp://127.0.0.1:9000' });
  assert.deepEqual(parseClientHost('tcp://:9000'), { kind: 'tcp', host: 'localhost', port: 9000, url: 'tcp://localhost:9000' });
  assert.deepEqual(parseClientHost('tcp://[::1]:9000'), { kind: 'tcp', host: '::1', port: 9000, url: 'tcp://[::1]:9000' });
  assert.throws(() => parseClientHost('http://remote:2375'), /invalid bind address format: http:\/\/remote:2375/);
  assert.throws(() => parseClientHost('ssh://me@remote'), /invalid bind address format/);
  assert.throws(() => parseClientHost('tcp://remote:99999'), /expected tcp:\/\/HOST:PORT/);
  assert.throws(() => parseClientHost('unix://relative.sock'), /absolute path/);
});

test('TLS settings follow --tls/--tlsverify and DOCKER_TLS/DOCKER_TLS_VERIFY/DOCKER_CERT_PATH', () => {
  const certs = makeTestCerts();
  const dir = mkdtempSync(join(tmpdir(), 'hako-remote-unit-'));
  try {
    const CA = readFileSync(certs.caCert);
    copyFileSync(certs.caCert, join(dir, 'ca.pem'));
    assert.equal(resolveClientTls({}, {}), undefined);
    assert.equal(resolveClientTls({ tlsverify: false, tls: false }, { DOCKER_CERT_PATH: dir }, undefined)?.verify, false, '--tlsverify given at all turns TLS on');
    const envOnly = resolveClientTls({}, { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir });
    assert.deepEqual(envOnly, { ca: CA, cert: undefined, key: undefined, verify: true });
    assert.equal(resolveClientTls({}, { DOCKER_TLS: '1', DOCKER_CERT_PATH: dir })?.verify, false);
    assert.equal(resolveClientTls({ tls: false }, { DOCKER_TLS: '1', DOCKER_CERT_PATH: dir }), undefined, '--tls=false beats DOCKER_TLS');
    // The config dir (--config) is the default cert dir when DOCKER_CERT_PATH is unset.
    assert.deepEqual(resolveClientTls({ tlsverify: true }, {}, dir)?.ca, CA);
    assert.throws(() => resolveClientTls({ tlsverify: true }, { DOCKER_CERT_PATH: join(dir, 'none') }), /cannot read the CA certificate .*none\/ca\.pem: no such file or directory/);
    // --tls alone does not verify the server, so it needs no CA (docker's tlsconfig.Client reads none).
    assert.deepEqual(resolveClientTls({ tls: true }, { DOCKER_CERT_PATH: join(dir, 'none') }), { ca: undefined, cert: undefined, key: undefined, verify: false });
    copyFileSync(certs.clientCert, join(dir, 'cert.pem'));
    assert.throws(() => resolveClientTls({ tlsverify: true }, { DOCKER_CERT_PATH: dir }), /needs its key/);
    copyFileSync(certs.clientKey, join(dir, 'key.pem'));
    assert.deepEqual(resolveClientTls({ tlsverify: true }, { DOCKER_CERT_PATH: dir })?.key, readFileSync(certs.clientKey));
    assert.throws(() => resolveClientTls({ tlsverify: true, tlskey: join(dir, 'other-key.pem') }, { DOCKER_CERT_PATH: dir }), /cannot read the client key .*other-key\.pem/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    certs.remove();
  }
});

test('a file that is not a PEM certificate or key, or a key of another certificate, is named before any connection', () => {
  const certs = makeTestCerts();
  const junk = join(certs.dir, 'junk.pem');
  writeFileSync(junk, 'root:x:0:0:root:/root:/bin/bash\n');
  try {
    const flags = { tlsverify: true, tlscacert: certs.caCert, tlscert: certs.clientCert, tlskey: certs.clientKey };
    assert.equal(resolveClientTls(flags, {})?.verify, true);
    assert.throws(() => resolveClientTls({ ...flags, tlscacert: junk }, {}), /junk\.pem is not a PEM CA certificate: .*\(name it with --tlscacert/);
    assert.throws(() => resolveClientTls({ ...flags, tlscert: junk }, {}), /junk\.pem is not a PEM certificate: .*\(name it with --tlscert\)/);
    assert.throws(() => resolveClientTls({ ...flags, tlskey: junk }, {}), /junk\.pem is not a PEM private key: .*\(name it with --tlskey\)/);
    assert.throws(() => resolveClientTls({ ...flags, tlskey: certs.rogueKey }, {}), /the client key .*rogue-key\.pem is not the key of the certificate .*client-cert\.pem/);
    // Without verification the CA is not read at all, junk or not.
    assert.equal(resolveClientTls({ tls: true, tlscacert: junk }, {})?.ca, undefined);
  } finally {
    certs.remove();
  }
});
