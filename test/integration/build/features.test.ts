/**
 * ADD of URLs (with --checksum), COPY --parents/--exclude/--link/--chmod/--chown by name,
 * --no-cache-filter, --cache-from a loaded image, and cache mounts seeded from a stage: real
 * builds in a temp engine; downloads come from an http server on 127.0.0.1 this file starts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { startTestEngine, type TestEngine } from '../../support/engine.js';
import { build, savedMembers, type Built, type Files } from './support.js';

const cachedSteps = (b: Built): boolean[] => b.steps.map((s) => s.includes(' ---> Using cache'));
const sha = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;

describe('hako build: ADD URLs, COPY selection flags, cache sources', { concurrency: false }, () => {
  let t: TestEngine;
  let server: Server;
  let base = '';
  /** What the server answers for each path; `hits` counts requests. */
  const files = new Map<string, string>();
  let hits = 0;
  const lastModified = new Date('2021-03-04T05:06:07Z');

  before(async () => {
    t = await startTestEngine();
    server = createServer((req, res) => {
      hits++;
      if (req.url === '/redirect') { res.writeHead(302, { Location: '/files/hello.txt' }).end(); return; }
      const body = files.get(req.url ?? '');
      if (body === undefined) { res.writeHead(404).end('no such file'); return; }
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Last-Modified': lastModified.toUTCString() }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((r) => { if (server) server.close(() => r()); else r(); });
    await t?.close();
  });

  test('ADD of a URL downloads it with mode 600 and the Last-Modified mtime; the cache follows the bytes', async () => {
    files.set('/files/hello.txt', 'hello v1\n');
    const ctx: Files = {
      Dockerfile: [
        'FROM busybox',
        `ADD ${base}/files/hello.txt /dl/`,
        `ADD ${base}/redirect /named.txt`,
        'RUN stat -c "%n %a %Y" /dl/hello.txt /named.txt && cat /dl/hello.txt',
      ].join('\n'),
    };
    const first = await build(t, ctx, { tags: ['addurl:1'] });
    const epoch = lastModified.getTime() / 1000;
    assert.match(first.output, new RegExp(`^/dl/hello.txt 600 ${epoch}$`, 'm'));
    assert.match(first.output, new RegExp(`^/named.txt 600 ${epoch}$`, 'm'));
    assert.match(first.output, /^hello v1$/m);
    const history = await t.engine.images.history('addurl:1');
    assert.match(String(history[2]?.CreatedBy), /#\(nop\) ADD file:[0-9a-f]{64} in \/dl\/ $/);

    const before = hits;
    const again = await build(t, ctx);
    assert.ok(hits >= before + 2, 'the URLs are downloaded again on a rebuild');
    assert.equal(again.id, first.id);
    assert.deepEqual(cachedSteps(again), [false, true, true, true]);

    files.set('/files/hello.txt', 'hello v2\n');
    const changed = await build(t, ctx);
    assert.deepEqual(cachedSteps(changed), [false, false, false, false]);
    assert.match(changed.output, /^hello v2$/m);
  });

  test('ADD --checksum verifies the download and names both digests when they differ', async () => {
    files.set('/files/pinned.txt', 'pinned\n');
    const ok = await build(t, { Dockerfile: `FROM busybox\nADD --checksum=${sha('pinned\n')} ${base}/files/pinned.txt /p\nRUN cat /p\n` });
    assert.match(ok.output, /^pinned$/m);
    const wrong = sha('something else');
    await assert.rejects(build(t, { Dockerfile: `FROM busybox\nADD --checksum=${wrong} ${base}/files/pinned.txt /p\n` }, { tags: ['never:1'] }), (err: Error) => {
      assert.match(err.message, /^Dockerfile:2: /);
      assert.ok(err.message.includes(`expected ${wrong}`) && err.message.includes(`got ${sha('pinned\n')}`), err.message);
      return true;
    });
    await assert.rejects(t.engine.images.inspect('never:1'), /No such image/);
    await assert.rejects(build(t, { Dockerfile: 'FROM busybox\nADD --checksum=md5:abc https://example.invalid/x /x\n' }), /Dockerfile:2: .*sha256/);
    await assert.rejects(build(t, { Dockerfile: `FROM busybox\nADD ${base}/files/missing.txt /m\n` }), /Dockerfile:2: .*404/);
    await assert.rejects(build(t, { Dockerfile: 'FROM busybox\nADD https://github.com/moby/buildkit.git#v0.1 /src\n' }), /Dockerfile:2: .*git sources are not supported/);
    await assert.rejects(build(t, { Dockerfile: `FROM busybox\nCOPY ${base}/files/pinned.txt /p\n` }), /Dockerfile:2: .*source can't be a URL for COPY/);
  });

  test('COPY --parents, --exclude, --link, symbolic --chmod and --chown by name', async () => {
    const b = await build(t, {
      Dockerfile: [
        'FROM busybox',
        "RUN echo 'svc9:x:1234:2345::/home/svc9:/bin/sh' >> /etc/passwd && echo 'grp:x:3456:' >> /etc/group",
        'COPY --parents ./x/a.txt ./y/a.txt /parents/',
        'COPY --parents ./x/./y/*.txt /pivot/',
        'COPY --parents ./src/**/*.txt /deep/',
        'COPY --exclude=*.md --exclude=*.sh hom* /ex/',
        'COPY --exclude=*.md docs /docs/',
        'COPY --link x/a.txt /linked/a.txt',
        'COPY --chmod=u=rwX,go=rX perm /sym/',
        'COPY --chmod=+x x/a.txt /plusx',
        'COPY --chmod=640 x/a.txt /octal',
        'COPY --chown=svc9:grp x/a.txt /owned',
        'COPY --chown=svc9 x/a.txt /owned-user',
        'RUN find /parents /pivot /deep /ex /docs /linked | sort && stat -c "%n %a" /sym/keep.sh /sym/plain.txt /sym/sub /plusx /octal && stat -c "%n %u %g" /owned /owned-user',
      ].join('\n'),
      'x/a.txt': 'xa\n', 'y/a.txt': 'ya\n', 'x/y/b.txt': 'xyb\n', 'x/y/c.md': 'no\n',
      'src/a.txt': 'sa\n', 'src/q/c.txt': 'sqc\n', 'src/q/r/d.txt': 'sqrd\n', 'src/q/e.md': 'no\n',
      'hom1.txt': 'h1\n', 'hom2.md': 'h2\n', 'home.sh': { content: '#!/bin/sh\n', mode: 0o755 },
      'docs/a.md': 'no\n', 'docs/b.txt': 'b\n',
      'perm/keep.sh': { content: '#!/bin/sh\n', mode: 0o700 }, 'perm/plain.txt': { content: 'p\n', mode: 0o600 }, 'perm/sub/f': 'f\n',
    });
    const lines = b.output.split('\n');
    const listed = lines.filter((l) => /^\/(parents|pivot|deep|ex|docs|linked)/.test(l));
    assert.deepEqual(listed, [
      '/deep', '/deep/src', '/deep/src/a.txt', '/deep/src/q', '/deep/src/q/c.txt', '/deep/src/q/r', '/deep/src/q/r/d.txt',
      '/docs', '/docs/b.txt',
      '/ex', '/ex/hom1.txt',
      '/linked', '/linked/a.txt',
      '/parents', '/parents/x', '/parents/x/a.txt', '/parents/y', '/parents/y/a.txt',
      '/pivot', '/pivot/y', '/pivot/y/b.txt',
    ]);
    assert.match(b.output, /^\/sym\/keep.sh 755$/m);
    assert.match(b.output, /^\/sym\/plain.txt 644$/m);
    assert.match(b.output, /^\/sym\/sub 755$/m);
    assert.match(b.output, /^\/plusx 755$/m);
    assert.match(b.output, /^\/octal 640$/m);
    assert.match(b.output, /^\/owned 1234 3456$/m);
    assert.match(b.output, /^\/owned-user 1234 2345$/m);
  });

  test('COPY --exclude keeps excluded files out of the cache key; bad flags are refused with the line', async () => {
    const ctx: Files = { Dockerfile: 'FROM busybox\nCOPY --exclude=*.log app /app/\n', 'app/main.txt': 'm\n', 'app/debug.log': 'one\n' };
    const first = await build(t, ctx);
    const second = await build(t, { ...ctx, 'app/debug.log': 'two\n' });
    assert.deepEqual(cachedSteps(second), [false, true]);
    assert.equal(second.id, first.id);
    await assert.rejects(build(t, { Dockerfile: 'FROM busybox\nCOPY --chmod=a+q x /x\n', x: 'x' }), /Dockerfile:2: .*invalid chmod parameter "a\+q"/);
    await assert.rejects(build(t, { Dockerfile: 'FROM busybox\nCOPY --parents=maybe x /d/\n', x: 'x' }), /Dockerfile:2: .*--parents=maybe: use true or false/);
    await assert.rejects(build(t, { Dockerfile: 'FROM busybox\nCOPY --parents x /d\n', x: 'x' }), /Dockerfile:2: .*end the destination with a \//);
    await assert.rejects(build(t, { Dockerfile: 'FROM busybox\nCOPY --chown=nobody-here x /x\n', x: 'x' }), /Dockerfile:2: .*no such user: nobody-here/);
  });

  test('COPY --from=STAGE --exclude and --parents select inside the stage\'s tree', async () => {
    const b = await build(t, {
      Dockerfile: [
        'FROM busybox AS out',
        'RUN mkdir -p /out/sub /app/dist/js && echo a > /out/a.txt && echo b > /out/b.md && echo c > /out/sub/c.md && echo d > /out/sub/d.txt && echo j > /app/dist/js/m.js',
        'FROM busybox',
        'COPY --from=out --exclude=**/*.md /out /copied/',
        'COPY --from=out --parents /app/./dist/js/m.js /pivoted/',
        'RUN find /copied /pivoted | sort',
      ].join('\n'),
    });
    const listed = b.output.split('\n').filter((l) => /^\/(copied|pivoted)/.test(l));
    assert.deepEqual(listed, ['/copied', '/copied/a.txt', '/copied/sub', '/copied/sub/d.txt', '/pivoted', '/pivoted/dist', '/pivoted/dist/js', '/pivoted/dist/js/m.js']);
  });

  test('--no-cache-filter rebuilds the named stage only', async () => {
    const ctx: Files = { Dockerfile: 'FROM busybox AS a\nRUN echo a > /a\nFROM busybox AS b\nRUN echo b > /b\nFROM busybox\nRUN echo final > /f\nCOPY --from=a /a /a\nCOPY --from=b /b /b\n' };
    await build(t, ctx);
    const again = await build(t, ctx, { noCacheFilter: ['b'] });
    // Steps: FROM a, RUN a, FROM b, RUN b, FROM, RUN final, COPY --from=a, COPY --from=b (its source changed).
    assert.deepEqual(cachedSteps(again), [false, true, false, false, false, true, true, false]);
  });

  test('--cache-from reuses the layers of a loaded image whose history matches, and rebuilds from the first change', async () => {
    const ctx: Files = {
      Dockerfile: 'FROM busybox\nENV MODE=prod\nCOPY a.txt /a.txt\nRUN echo ran > /ran && cat /a.txt\nCOPY b.txt /b.txt\nCMD ["cat", "/b.txt"]\n',
      'a.txt': 'a\n', 'b.txt': 'b\n',
    };
    await build(t, ctx, { tags: ['cachesrc:1'] });
    const layersOf = async (ref: string): Promise<string[]> => ((await t.engine.images.inspect(ref)).RootFS as { Layers: string[] }).Layers;
    const originalLayers = await layersOf('cachesrc:1');
    const archive = [...(await savedMembers(t, 'cachesrc:1')).entries()];
    // Forget everything the build left: the image, its intermediates, the cache.
    await t.engine.images.remove('cachesrc:1', {});
    await t.engine.build?.prune?.({ all: true });
    const tar = (await import('tar-stream')).default.pack();
    for (const [name, data] of archive) tar.entry({ name }, data);
    tar.finalize();
    await t.engine.images.load(Readable.from(tar), {});

    const reused = await build(t, ctx, { cacheFrom: ['cachesrc:1'] });
    assert.deepEqual(cachedSteps(reused), [false, true, true, true, true, true], reused.output);
    assert.doesNotMatch(reused.output, /Running in/);
    assert.deepEqual(await layersOf(reused.id), originalLayers);

    const changed = await build(t, { ...ctx, 'b.txt': 'B\n' }, { cacheFrom: ['cachesrc:1'] });
    assert.deepEqual(cachedSteps(changed), [false, true, true, true, false, false], changed.output);
    assert.deepEqual((await layersOf(changed.id)).slice(0, 3), originalLayers.slice(0, 3));

    const missing = await build(t, { Dockerfile: 'FROM busybox\nENV Q=1\n' }, { cacheFrom: ['no-such-image:1'] });
    assert.match(missing.output, /cache-from image no-such-image:1 not found/);
  });

  test('--cache-from serves COPY --from steps: their created_by is hashed in the source before anything is copied', async () => {
    const df = (word: string): Files => ({ Dockerfile: `FROM busybox AS src\nRUN mkdir /out && echo ${word} > /out/f\nFROM busybox\nCOPY --from=src /out /out\nCOPY --from=busybox /etc/group /g\n` });
    const layersOf = async (ref: string): Promise<string[]> => ((await t.engine.images.inspect(ref)).RootFS as { Layers: string[] }).Layers;
    const historyOf = async (ref: string): Promise<string[]> => (await t.engine.images.history(ref)).map((h) => String(h.CreatedBy));
    await build(t, df('one'), { tags: ['cfromsrc:1'] });
    const originalLayers = await layersOf('cfromsrc:1');
    const archive = [...(await savedMembers(t, 'cfromsrc:1')).entries()];
    await t.engine.images.remove('cfromsrc:1', {});
    await t.engine.build?.prune?.({ all: true });
    const tar = (await import('tar-stream')).default.pack();
    for (const [name, data] of archive) tar.entry({ name }, data);
    tar.finalize();
    await t.engine.images.load(Readable.from(tar), {});

    // Steps: FROM src, RUN (not in the source's history: it runs again, same files), FROM, COPY --from=src, COPY --from=busybox.
    const reused = await build(t, df('one'), { cacheFrom: ['cfromsrc:1'] });
    assert.deepEqual(cachedSteps(reused), [false, false, false, true, true], reused.output);
    assert.deepEqual(await layersOf(reused.id), originalLayers);

    // The stage's file changed: the lookup misses and the copy commits the created_by it looked up with.
    const changed = await build(t, df('two'), { cacheFrom: ['cfromsrc:1'] });
    assert.deepEqual(cachedSteps(changed), [false, false, false, false, false], changed.output);
    const plain = await build(t, df('two'), { noCache: true });
    assert.deepEqual(await historyOf(changed.id), await historyOf(plain.id));
    assert.notDeepEqual((await historyOf(changed.id))[1], (await historyOf(reused.id))[1]);
  });

  test('a cache mount can be seeded from a stage; its writes persist in that cache only', async () => {
    const ctx: Files = {
      Dockerfile: [
        'FROM busybox AS seed',
        'RUN mkdir -p /s && echo seeded > /s/f',
        'FROM busybox',
        'RUN --mount=type=cache,target=/c,from=seed,source=/s,id=seeded cat /c/f && echo more >> /c/f && echo lines=$(wc -l < /c/f)',
      ].join('\n'),
    };
    const first = await build(t, ctx, { noCacheFilter: ['1'] });
    assert.match(first.output, /^seeded$/m);
    assert.match(first.output, /^lines=2$/m);
    const second = await build(t, ctx, { noCacheFilter: ['1'] });
    assert.match(second.output, /^lines=3$/m);
    await assert.rejects(build(t, { Dockerfile: 'FROM busybox\nRUN --mount=type=cache,target=/c,source=/x true\n' }), /Dockerfile:2: .*source= needs from=/);
  });
});
