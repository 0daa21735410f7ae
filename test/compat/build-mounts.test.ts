/**
 * `hako build --secret`, cache mounts across builds, and `builder prune` (hako's and docker's
 * CLI against hakod's POST /build/prune).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startHakod, type Hakod } from '../support/hakod.js';
import { ok, exits } from './expect.js';

describe('build mounts, secrets and builder prune against hakod', () => {
  let d: Hakod;
  const work = mkdtempSync(join(tmpdir(), 'hako-compat-buildmounts-'));
  const long = { timeoutMs: 60_000 };
  before(async () => { d = await startHakod(); });
  after(async () => {
    try { await d?.stop(); } finally { rmSync(work, { recursive: true, force: true }); }
  });

  it('hako build --secret: readable in RUN, in no layer of `docker save` and not in `docker history`', async () => {
    const ctx = join(work, 'secret');
    mkdirSync(ctx);
    const value = 'tok-7f3a9c1e55b2';
    writeFileSync(join(work, 'token.txt'), value);
    writeFileSync(join(ctx, 'Dockerfile'), [
      'FROM busybox',
      'RUN --mount=type=secret,id=api,required=true echo "got $(wc -c < /run/secrets/api) bytes" && touch /built',
      'RUN --mount=type=secret,id=pw,env=PW echo "pw has ${#PW} chars"',
    ].join('\n'));
    const out = ok(await d.hako(['build', '--secret', `id=api,src=${join(work, 'token.txt')}`, '--secret', 'id=pw,env=HAKO_TEST_PW', '-t', 'sec:1', ctx], { ...long, env: { ...(d.env as Record<string, string>), HAKO_TEST_PW: 'hunter22' } }), d);
    assert.match(out, /got 16 bytes/);
    assert.match(out, /pw has 8 chars/);
    const saved = await d.shell(`docker save sec:1 | grep -c -a -e ${value} -e hunter22 || true`);
    assert.equal(saved.stdout.trim(), '0', 'no byte of the secrets in the saved image');
    const history = ok(await d.docker(['history', '--no-trunc', 'sec:1']), d);
    assert.doesNotMatch(history, new RegExp(`${value}|hunter22`));
    exits(await d.hako(['build', '--secret', 'id=api,src=/nonexistent/file', ctx]), 125, /failed to read secret api from \/nonexistent\/file/, d);
    exits(await d.hako(['build', '--no-cache', ctx], long), 1, /secret api: not provided: pass it with --secret id=api/, d);
  });

  it('a cache mount keeps its files between builds until `hako builder prune -af` removes it', async () => {
    const ctx = join(work, 'counter');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN --mount=type=cache,target=/c n=$(cat /c/n 2>/dev/null || echo 0); echo $((n+1)) > /c/n; echo "runs=$((n+1))"\n');
    assert.match(ok(await d.hako(['build', '--no-cache', '-t', 'counter:1', ctx], long), d), /runs=1/);
    assert.match(ok(await d.hako(['build', '--no-cache', '-t', 'counter:1', ctx], long), d), /runs=2/);
    assert.equal(readdirSync(join(d.dataRoot, 'buildcache')).length, 1, 'one cache-mount directory under <data-root>/buildcache');
    const pruned = ok(await d.hako(['builder', 'prune', '-af']), d);
    assert.match(pruned, /^Deleted build cache objects:\n/);
    assert.match(pruned, /cachemount:/);
    assert.match(pruned, /^Total reclaimed space: \d/m);
    assert.deepEqual(readdirSync(join(d.dataRoot, 'buildcache')), []);
    assert.match(ok(await d.hako(['build', '--no-cache', '-t', 'counter:1', ctx], long), d), /runs=1/);
  });

  it('--progress=plain says which file or build arg made a step miss the cache', async () => {
    const ctx = join(work, 'why');
    mkdirSync(join(ctx, 'src'), { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nARG FLAVOR=plain\nCOPY src/ /src/\nRUN echo "$FLAVOR" > /flavor\n');
    writeFileSync(join(ctx, 'src', 'a.txt'), 'a\n');
    writeFileSync(join(ctx, 'src', 'b.txt'), 'b\n');
    ok(await d.hako(['build', ctx], long), d);
    writeFileSync(join(ctx, 'src', 'b.txt'), 'b2\n');
    const changed = ok(await d.hako(['build', '--progress=plain', ctx], long), d);
    assert.match(changed, /^#3 cache miss: file src\/b\.txt changed$/m, changed);
    assert.doesNotMatch(changed, /a\.txt changed/);
    const arg = ok(await d.hako(['build', '--progress=plain', '--build-arg', 'FLAVOR=spicy', ctx], long), d);
    assert.match(arg, /^#4 cache miss: build arg FLAVOR changed$/m, arg);
  });

  it('builder prune without -a keeps the cache of tagged images; docker builder prune -af empties it', async () => {
    const ctx = join(work, 'prune');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo kept > /kept\n');
    ok(await d.hako(['build', '-t', 'kept:1', ctx], long), d);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo dropped > /dropped\n');
    ok(await d.hako(['build', ctx], long), d); // untagged: dangling cache
    ok(await d.hako(['builder', 'prune', '-f']), d);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo kept > /kept\n');
    assert.match(ok(await d.hako(['build', '--progress=plain', ctx], long), d), /^#2 CACHED$/m, 'the tagged image\'s steps are still cached');
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo dropped > /dropped\n');
    assert.doesNotMatch(ok(await d.hako(['build', '--progress=plain', ctx], long), d), /^#2 CACHED$/m, 'the dangling step was pruned');
    exits(await d.hako(['builder', 'prune', '-f', '--filter', 'label=x']), 1, /invalid filter 'label'/, d);
    const young = ok(await d.hako(['builder', 'prune', '-af', '--filter', 'until=1h']), d);
    assert.doesNotMatch(young, /Deleted build cache objects/, 'until=1h keeps what was built just now');
    const docker = ok(await d.docker(['builder', 'prune', '-af'], { env: { ...(d.env as Record<string, string>), DOCKER_BUILDKIT: '0' } }), d);
    assert.match(docker, /^Deleted build cache objects:\n[0-9a-f]{64}$/m);
    assert.match(docker, /^Total reclaimed space: /m);
    assert.doesNotMatch(ok(await d.hako(['build', '--progress=plain', ctx], long), d), /CACHED/);
  });
});
