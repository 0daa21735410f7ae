import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestEngine, type TestEngine } from '../../support/engine.js';
import { htpasswdFile, recorder, startDistribution, type Running } from './helpers.js';
import { startTokenServer, type TokenServer } from './token-server.js';

describe("Debian's docker-registry (distribution 2.8) as the reference server", () => {
  let te: TestEngine;
  let dir: string;
  let basic: Running;
  let tokenReg: Running;
  let tokens: TokenServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hako-regtest-'));
    te = await startTestEngine();
    basic = await startDistribution({ htpasswd: htpasswdFile(dir, 'alice', 's3cret') });
    tokens = await startTokenServer(dir, { bob: 'hunter2' });
    tokenReg = await startDistribution({ token: tokens });
  });
  after(async () => {
    await basic?.close();
    await tokenReg?.close();
    await tokens?.close();
    await te?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('login checks the password with Basic auth: a wrong one is refused, the right one succeeds', async () => {
    await assert.rejects(te.engine.registry.login({ username: 'alice', password: 'nope', serveraddress: basic.host }),
      (e: Error & { status?: number }) => e.status === 401 && /login attempt to 127\.0\.0\.1:\d+ failed/.test(e.message));
    assert.deepEqual(await te.engine.registry.login({ username: 'alice', password: 's3cret', serveraddress: basic.host }),
      { Status: 'Login Succeeded', IdentityToken: '' });
  });

  it('push and pull with Basic auth; without credentials the push is refused', async () => {
    const { engine } = te;
    const name = `${basic.host}/team/bb`;
    await engine.images.tag('busybox:latest', name, 'v1');
    await assert.rejects(engine.registry.push(`${name}:v1`, { progress: () => {} }), (e: Error & { status?: number }) => e.status === 401);
    const auth = { username: 'alice', password: 's3cret', serveraddress: basic.host };
    await engine.registry.push(`${name}:v1`, { auth, progress: () => {} });
    await engine.images.remove(`${name}:v1`, {});
    const pull = recorder();
    await engine.registry.pull(`${name}:v1`, { auth, progress: pull.progress });
    assert.ok(pull.statuses().some((s) => s.startsWith('Digest: sha256:')));
    const img = await engine.images.inspect(`${name}:v1`);
    assert.equal(img.Id, (await engine.images.inspect('busybox:latest')).Id);
  });

  it('the bearer token flow: 401 challenge, token with the scope, retry', async () => {
    const { engine } = te;
    const name = `${tokenReg.host}/bob/app`;
    await engine.images.tag('busybox:latest', name, '1');
    await assert.rejects(engine.registry.push(`${name}:1`, { auth: { username: 'bob', password: 'wrong', serveraddress: tokenReg.host }, progress: () => {} }),
      (e: Error & { status?: number }) => e.status === 401 && /incorrect username or password/.test(e.message));
    await engine.registry.push(`${name}:1`, { auth: { username: 'bob', password: 'hunter2', serveraddress: tokenReg.host }, progress: () => {} });
    assert.ok(tokens.requests.some((r) => r.user === 'bob' && r.scope.includes('repository:bob/app:pull,push')), JSON.stringify(tokens.requests));
    await engine.images.remove(`${name}:1`, {});
    // Anonymous pull: the token server grants pull to anyone.
    await engine.registry.pull(`${name}:1`, { progress: () => {} });
    assert.ok(tokens.requests.some((r) => r.user === null && r.scope.includes('repository:bob/app:pull')));
  });
});
