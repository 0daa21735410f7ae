/**
 * The docker CLI (and hako's) against hakod with a registry on 127.0.0.1 that asks for a login:
 * docker login / push / pull draw their progress from hakod's JSON messages.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startHakod, type Hakod } from '../support/hakod.js';
import { htpasswdFile, startHakoRegistry } from '../integration/registry/helpers.js';
import { ok } from './expect.js';

describe('docker and hako CLIs: login, push, pull against a local registry', () => {
  let d: Hakod;
  let reg: Awaited<ReturnType<typeof startHakoRegistry>>;
  const work = mkdtempSync(join(tmpdir(), 'hako-compat-reg-'));
  let name: string;
  before(async () => {
    d = await startHakod();
    reg = await startHakoRegistry({ htpasswd: htpasswdFile(work, 'alice', 's3cret') });
    name = `localhost:${reg.port}/demo/busybox`;
  });
  after(async () => {
    try { await d?.stop(); } finally {
      await reg?.close();
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('docker login refuses a wrong password and stores a right one in DOCKER_CONFIG', async () => {
    const bad = await d.docker(['login', `localhost:${reg.port}`, '-u', 'alice', '--password-stdin'], { input: 'wrong\n' });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /login attempt to localhost:\d+ failed/);
    const good = ok(await d.docker(['login', `localhost:${reg.port}`, '-u', 'alice', '--password-stdin'], { input: 's3cret\n' }), d);
    assert.match(good, /Login Succeeded/);
    const config = JSON.parse(readFileSync(join(String(d.env.DOCKER_CONFIG), 'config.json'), 'utf8')) as { auths: Record<string, unknown> };
    assert.ok(config.auths[`localhost:${reg.port}`], JSON.stringify(config));
  });

  it('docker push uploads the layers and prints the digest; docker pull brings it back', async () => {
    ok(await d.docker(['tag', 'busybox', `${name}:1`]), d);
    const pushed = ok(await d.docker(['push', `${name}:1`], { timeoutMs: 60_000 }), d);
    assert.match(pushed, /The push refers to repository \[localhost:\d+\/demo\/busybox\]/);
    assert.match(pushed, /: Pushed/);
    assert.match(pushed, /1: digest: sha256:[0-9a-f]{64} size: \d+/);
    ok(await d.docker(['rmi', `${name}:1`]), d);
    const pulled = ok(await d.docker(['pull', `${name}:1`], { timeoutMs: 60_000 }), d);
    assert.match(pulled, /1: Pulling from demo\/busybox/);
    assert.match(pulled, /Digest: sha256:[0-9a-f]{64}/);
    assert.match(pulled, /Status: (Downloaded newer image|Image is up to date) for localhost:\d+\/demo\/busybox:1/);
    const digests = ok(await d.docker(['image', 'inspect', `${name}:1`, '--format', '{{json .RepoDigests}}']), d);
    assert.match(digests, /demo\/busybox@sha256:/);
  });

  it('docker pull of a missing tag fails with the registry\'s answer', async () => {
    const r = await d.docker(['pull', `${name}:nope`], { timeoutMs: 30_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /manifest for .*nope not found: manifest unknown/);
  });

  it('hako push -a and hako pull with the credentials docker login stored', async () => {
    ok(await d.hako(['tag', 'busybox', `${name}:2`]), d);
    const pushed = ok(await d.hako(['push', `${name}:2`], { timeoutMs: 60_000 }), d);
    assert.match(pushed, /2: digest: sha256:/);
    ok(await d.hako(['rmi', `${name}:2`]), d);
    const pulled = ok(await d.hako(['pull', `${name}:2`], { timeoutMs: 60_000 }), d);
    assert.match(pulled, /Already exists|Pull complete/);
    const out = ok(await d.hako(['logout', `localhost:${reg.port}`]), d);
    assert.match(out, /Removing login credentials for localhost:\d+/);
    const refused = await d.hako(['push', `${name}:2`], { timeoutMs: 30_000 });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /authentication required|unauthorized/i);
  });

  it('search says plainly that the registry has no search', async () => {
    const r = await d.docker(['search', `localhost:${reg.port}/demo`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /search is not supported by the registry localhost:\d+/);
  });
});
