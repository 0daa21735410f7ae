/**
 * Login with a token server that hands out refresh tokens (distribution's OAuth2 variant of token
 * auth): the CLI keeps docker's `identitytoken` instead of the password, and later pushes and
 * pulls get their bearer tokens with grant_type=refresh_token. Debian's docker-registry with
 * token auth, a token server started here, a real hakod, the hako and docker CLIs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER, startHakod, type Hakod } from '../../support/hakod.js';
import { startDistribution, type Running } from './helpers.js';
import { startTokenServer, type TokenServer } from './token-server.js';

interface AuthEntry { auth?: string; identitytoken?: string }

describe('login keeps an identity token and uses it as docker does', () => {
  let dir: string;
  let tokens: TokenServer;
  let reg: Running;
  let hakod: Hakod;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hako-identity-token-'));
    tokens = await startTokenServer(dir, { bob: 'hunter2' }, { refreshTokens: true });
    reg = await startDistribution({ token: tokens });
    hakod = await startHakod();
  });
  after(async () => {
    await hakod?.stop();
    await reg?.close();
    await tokens?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const entryIn = (config: string): AuthEntry => {
    const doc = JSON.parse(readFileSync(join(config, 'config.json'), 'utf8')) as { auths: Record<string, AuthEntry> };
    return doc.auths[reg.host] as AuthEntry;
  };

  it('hako login stores the refresh token, not the password; push and pull refresh with it', async () => {
    const config = mkdtempSync(join(dir, 'hako-config-'));
    const env = { DOCKER_CONFIG: config };
    const login = await hakod.hako(['login', '-u', 'bob', '--password-stdin', reg.host], { input: 'hunter2\n', env });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /Login Succeeded/);
    // The login asked for an offline token (GET …&offline_token=true&client_id=docker).
    assert.ok(tokens.requests.some((r) => r.method === 'GET' && r.user === 'bob' && r.offline), JSON.stringify(tokens.requests));
    const entry = entryIn(config);
    assert.ok(entry.identitytoken && tokens.refreshTokens.get(entry.identitytoken) === 'bob', JSON.stringify(entry));
    assert.equal(Buffer.from(entry.auth ?? '', 'base64').toString(), 'bob:', 'no password is kept');
    assert.ok(!readFileSync(join(config, 'config.json'), 'utf8').includes('hunter2'));

    const ref = `${reg.host}/bob/app:1`;
    assert.equal((await hakod.hako(['tag', 'busybox:latest', ref])).code, 0);
    const before = tokens.requests.length;
    const push = await hakod.hako(['push', ref], { env, timeoutMs: 60_000 });
    assert.equal(push.code, 0, push.stderr);
    const refreshed = tokens.requests.slice(before).filter((r) => r.method === 'POST' && r.grant === 'refresh_token' && r.user === 'bob');
    assert.ok(refreshed.some((r) => r.scope.includes('repository:bob/app:pull,push')), JSON.stringify(tokens.requests.slice(before)));
    assert.ok(!tokens.requests.slice(before).some((r) => r.method === 'GET' && r.user === 'bob'), 'no password flow after the login');

    assert.equal((await hakod.hako(['rmi', ref])).code, 0);
    const pull = await hakod.hako(['pull', ref], { env, timeoutMs: 60_000 });
    assert.equal(pull.code, 0, pull.stderr);
  });

  it('a revoked identity token fails with a way out, and logging in again fixes it', async () => {
    const config = mkdtempSync(join(dir, 'hako-config-'));
    const env = { DOCKER_CONFIG: config };
    assert.equal((await hakod.hako(['login', '-u', 'bob', '--password-stdin', reg.host], { input: 'hunter2', env })).code, 0);
    tokens.refreshTokens.delete(entryIn(config).identitytoken as string);
    const ref = `${reg.host}/bob/revoked:1`;
    await hakod.hako(['tag', 'busybox:latest', ref]);
    const push = await hakod.hako(['push', ref], { env, timeoutMs: 60_000 });
    assert.notEqual(push.code, 0);
    assert.match(push.stderr, /identity token.*log in again with "hako login 127\.0\.0\.1:\d+"/);
    assert.equal((await hakod.hako(['login', '-u', 'bob', '--password-stdin', reg.host], { input: 'hunter2', env })).code, 0);
    assert.equal((await hakod.hako(['push', ref], { env, timeoutMs: 60_000 })).code, 0);
  });

  it('hako login SERVER without credentials re-uses the stored identity token, and prompts once it is refused', async () => {
    const config = mkdtempSync(join(dir, 'hako-config-'));
    const env = { DOCKER_CONFIG: config };
    assert.equal((await hakod.hako(['login', '-u', 'bob', '--password-stdin', reg.host], { input: 'hunter2', env })).code, 0);
    const old = entryIn(config).identitytoken as string;
    const before = tokens.requests.length;
    const again = await hakod.hako(['login', reg.host], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^Login Succeeded$/m);
    assert.match(again.stderr, /Authenticating with existing credentials\.\.\. \[Username: bob\]/);
    assert.doesNotMatch(again.stderr, /Password/);
    const asked = tokens.requests.slice(before);
    assert.ok(asked.some((r) => r.method === 'POST' && r.grant === 'refresh_token' && r.user === 'bob'), JSON.stringify(asked));
    assert.ok(!asked.some((r) => r.method === 'GET' && r.user === 'bob'), 'no password flow');
    // The token server rotated the refresh token: the new one is kept.
    const now = entryIn(config).identitytoken as string;
    assert.notEqual(now, old);
    assert.equal(tokens.refreshTokens.get(now), 'bob');

    // Refused (revoked): said so, then the prompt, which a non-TTY cannot answer.
    tokens.refreshTokens.delete(now);
    const refused = await hakod.hako(['login', reg.host], { env });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Stored credentials invalid or expired/);
    assert.match(refused.stderr, /Cannot perform an interactive login from a non TTY device/);
    assert.equal(entryIn(config).identitytoken, now, 'a refused login changes nothing stored');
  });

  it('docker login against hakod gets the identity token too, and docker push uses it', async () => {
    const config = mkdtempSync(join(dir, 'docker-config-'));
    const env = { DOCKER_CONFIG: config };
    const login = await hakod.docker(['login', '-u', 'bob', '--password-stdin', reg.host], { input: 'hunter2', env });
    assert.equal(login.code, 0, `${DOCKER}: ${login.stderr}`);
    const entry = entryIn(config);
    assert.ok(entry.identitytoken && tokens.refreshTokens.has(entry.identitytoken), JSON.stringify(entry));
    const ref = `${reg.host}/bob/docker:1`;
    await hakod.hako(['tag', 'busybox:latest', ref]);
    const before = tokens.requests.length;
    const push = await hakod.docker(['push', ref], { env, timeoutMs: 60_000 });
    assert.equal(push.code, 0, push.stderr);
    assert.ok(tokens.requests.slice(before).some((r) => r.method === 'POST' && r.grant === 'refresh_token'), JSON.stringify(tokens.requests.slice(before)));
  });
});
