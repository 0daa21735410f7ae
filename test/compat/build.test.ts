/**
 * `DOCKER_BUILDKIT=0 docker build` and `hako build` against hakod: the classic builder protocol,
 * tags, history, the cache across a daemon restart, --progress=plain, errors and exit codes.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startHakod, type Hakod } from '../support/hakod.js';
import { ok, exits } from './expect.js';

describe('docker build and hako build against hakod', () => {
  let d: Hakod;
  const work = mkdtempSync(join(tmpdir(), 'hako-compat-build-'));
  const ctx = join(work, 'app');
  const legacy = { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 60_000 };
  before(async () => {
    d = await startHakod();
    mkdirSync(join(ctx, 'src'), { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), [
      'FROM busybox AS build',
      'WORKDIR /src',
      'COPY package.json ./',
      'RUN echo "deps of $(cat package.json)" > deps.txt',
      'COPY src/ ./',
      'RUN cat deps.txt main.sh > bundle.sh',
      'FROM busybox',
      'COPY --from=build /src/bundle.sh /app/bundle.sh',
      'CMD ["cat", "/app/bundle.sh"]',
    ].join('\n'));
    writeFileSync(join(ctx, 'package.json'), '{"name":"app"}');
    writeFileSync(join(ctx, 'src', 'main.sh'), 'echo main\n');
    writeFileSync(join(ctx, '.dockerignore'), 'secret.txt\n');
    writeFileSync(join(ctx, 'secret.txt'), 'never sent\n');
  });
  after(async () => {
    try { await d?.stop(); } finally { rmSync(work, { recursive: true, force: true }); }
  });

  const env = (extra: Record<string, string>) => ({ ...legacy, env: { ...(d.env as Record<string, string>), ...extra } });

  it('DOCKER_BUILDKIT=0 docker build builds, tags, and the image runs', async () => {
    const out = ok(await d.docker(['build', '-t', 'app:1', ctx], env({ DOCKER_BUILDKIT: '0' })), d);
    assert.match(out, /Step 1\/9 : FROM busybox AS build/);
    assert.match(out, /Successfully built [0-9a-f]{12}/);
    assert.match(out, /Successfully tagged app:1/);
    const run = ok(await d.docker(['run', '--rm', 'app:1'], legacy), d);
    assert.equal(run, 'deps of {"name":"app"}\necho main\n');
    const history = ok(await d.docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'app:1']), d);
    assert.match(history.split('\n')[0] ?? '', /^\/bin\/sh -c #\(nop\) {2}CMD \["cat" "\/app\/bundle.sh"\]$/);
    // COPY --from of one file: docker's `file:<sha256 of its tarsum> in DEST ` (trailing space included).
    assert.match(history, /^\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in \/app\/bundle.sh $/m);
  });

  it('a rebuild after a daemon restart is all cache; touching a file or changing an ignored one changes nothing', async () => {
    const before = ok(await d.docker(['image', 'inspect', '--format', '{{.Id}}', 'app:1']), d).trim();
    await d.restart();
    utimesSync(join(ctx, 'src', 'main.sh'), new Date(), new Date(Date.now() + 60_000));
    writeFileSync(join(ctx, 'secret.txt'), 'changed, still ignored\n');
    const out = ok(await d.hako(['build', '--progress', 'plain', '-t', 'app:2', ctx], { timeoutMs: 60_000 }), d);
    assert.equal((out.match(/^#\d+ CACHED$/gm) ?? []).length, 7, out);
    const after = ok(await d.docker(['image', 'inspect', '--format', '{{.Id}}', 'app:2']), d).trim();
    assert.equal(after, before);
  });

  it('hako build: changing one source rebuilds from that COPY on; -q and --iidfile print the id', async () => {
    writeFileSync(join(ctx, 'src', 'main.sh'), 'echo main v2\n');
    const plain = ok(await d.hako(['build', '--progress=plain', ctx], { timeoutMs: 60_000 }), d);
    const cached = [...plain.matchAll(/^#(\d+) CACHED$/gm)].map((m) => Number(m[1]));
    // WORKDIR, COPY package.json and the deps RUN come from the cache; COPY src/ and all after it run.
    assert.deepEqual(cached, [2, 3, 4], plain);
    const iid = join(work, 'iid');
    const quiet = ok(await d.hako(['build', '-q', '--iidfile', iid, '-t', 'app:3', ctx], { timeoutMs: 60_000 }), d);
    assert.match(quiet.trim(), /^sha256:[0-9a-f]{64}$/);
    assert.equal(readFileSync(iid, 'utf8'), quiet.trim());
    assert.equal(ok(await d.docker(['run', '--rm', 'app:3'], legacy), d), 'deps of {"name":"app"}\necho main v2\n');
  });

  it('a failing RUN exits with its code, shows its output, and tags nothing', async () => {
    const bad = join(work, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'Dockerfile'), 'FROM busybox\nRUN echo going down; exit 3\n');
    const r = await d.docker(['build', '-t', 'bad:1', bad], env({ DOCKER_BUILDKIT: '0' }));
    exits(r, 3, /The command '\/bin\/sh -c echo going down; exit 3' returned a non-zero code: 3/, d);
    assert.match(r.stdout, /going down/);
    const h = await d.hako(['build', '-t', 'bad:1', bad], { timeoutMs: 60_000 });
    exits(h, 3, /returned a non-zero code: 3/, d);
    exits(await d.docker(['image', 'inspect', 'bad:1']), 1, /No such image/, d);
  });

  it('a broken Dockerfile names the line; -f reads a Dockerfile outside the context', async () => {
    const broken = join(work, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'Dockerfile'), 'FROM busybox\nCOPPY a b\n');
    exits(await d.hako(['build', broken]), 1, /Dockerfile:2: unknown instruction: COPPY/, d);
    const outside = join(work, 'Other.Dockerfile');
    writeFileSync(outside, 'FROM busybox\nLABEL from=outside\n');
    ok(await d.hako(['build', '-f', outside, '-t', 'other:1', '--label', 'extra=yes', broken], { timeoutMs: 60_000 }), d);
    const labels = ok(await d.docker(['image', 'inspect', '--format', '{{json .Config.Labels}}', 'other:1']), d);
    assert.deepEqual(JSON.parse(labels), { from: 'outside', extra: 'yes' });
  });
});
