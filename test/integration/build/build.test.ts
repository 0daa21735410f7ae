import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { engineForFile, runToExit, type TestEngine } from '../../support/engine.js';
import { build, contextTar, savedMembers, layerPaths as allLayerPaths, type Built, type Files } from './support.js';

const cachedSteps = (b: Built): boolean[] => b.steps.map((s) => s.includes(' ---> Using cache'));

/** Every path in every layer of an image, after checking `save` holds exactly its layers. */
async function layerPaths(t: TestEngine, ref: string): Promise<string[]> {
  const inspect = await t.engine.images.inspect(ref);
  const layers = ((inspect.RootFS as { Layers?: string[] }).Layers ?? []).length;
  const manifest = JSON.parse(((await savedMembers(t, ref)).get('manifest.json') as Buffer).toString()) as Array<{ Layers: string[] }>;
  assert.equal(manifest[0]?.Layers.length ?? 0, layers);
  return allLayerPaths(t, ref);
}

describe('hako build', { concurrency: false }, () => {
  const t = engineForFile();

  test('a multi-stage build holds only what COPY --from brought, and unneeded stages are not built', async () => {
    const b = await build(t, {
      Dockerfile: [
        'FROM busybox AS build',
        'RUN mkdir /out && echo built > /out/app && echo junk > /junk',
        'FROM busybox AS unused',
        'RUN exit 7',
        'FROM scratch',
        'COPY --from=build /out/app /app',
        'CMD ["/app"]',
      ].join('\n'),
    }, { tags: ['ms:1'] });
    assert.match(b.output, /Successfully tagged ms:1/);
    assert.doesNotMatch(b.output, /exit 7/);
    assert.deepEqual(await layerPaths(t, 'ms:1'), ['app']);
    const inspect = await t.engine.images.inspect('ms:1');
    assert.deepEqual((inspect.Config as { Cmd: string[] }).Cmd, ['/app']);
    const history = await t.engine.images.history('ms:1');
    assert.match(String(history[0]?.CreatedBy), /^\/bin\/sh -c #\(nop\) {2}CMD \["\/app"\]$/);
  });

  test('a rebuild is all cache; changing one copied file rebuilds that step and later ones only', async () => {
    const files: Files = {
      Dockerfile: 'FROM busybox\nCOPY a.txt /a.txt\nCOPY b.txt /b.txt\nRUN cat /a.txt /b.txt > /both\nENV X=1\n',
      'a.txt': 'a\n',
      'b.txt': 'b\n',
    };
    const first = await build(t, files);
    const again = await build(t, files);
    assert.equal(again.id, first.id);
    assert.deepEqual(cachedSteps(again), [false, true, true, true, true]);
    const changed = await build(t, { ...files, 'b.txt': 'B\n' });
    assert.notEqual(changed.id, first.id);
    assert.deepEqual(cachedSteps(changed), [false, true, false, false, false]);
    assert.match(changed.output, /Running in/);
  });

  test('touching a file or changing an ignored one rebuilds nothing', async () => {
    const files: Files = {
      Dockerfile: 'FROM busybox\nWORKDIR /app\nCOPY . .\nRUN ls /app > /listing\n',
      '.dockerignore': 'ignored.txt\n**/*.log\n!keep.log\n',
      'src.txt': 'x\n',
      'ignored.txt': 'one\n',
      'sub/debug.log': 'noise\n',
      'keep.log': 'kept\n',
    };
    const first = await build(t, files, { tags: ['ign:1'] });
    const second = await build(t, { ...files, 'src.txt': { content: 'x\n', mtime: new Date(1_800_000_000_000) }, 'ignored.txt': 'two\n', 'sub/debug.log': 'more noise\n' });
    assert.equal(second.id, first.id);
    assert.deepEqual(cachedSteps(second), [false, true, true, true]);
    const paths = await layerPaths(t, 'ign:1');
    assert.ok(paths.includes('app/src.txt') && paths.includes('app/keep.log'), paths.join(' '));
    assert.ok(!paths.includes('app/ignored.txt') && !paths.includes('app/sub/debug.log'), paths.join(' '));
  });

  test('a build arg invalidates only the steps that use it', async () => {
    const files: Files = {
      Dockerfile: 'FROM busybox\nRUN echo before > /before\nARG V=one\nCOPY a.txt /a\nLABEL unrelated=yes\nRUN echo $V > /v\nLABEL v=${V}\n',
      'a.txt': 'a\n',
    };
    const first = await build(t, files, { tags: ['args:1'] });
    const second = await build(t, files, { buildArgs: { V: 'two' }, tags: ['args:2'] });
    // FROM, RUN before, ARG, COPY, LABEL unrelated cached; RUN using $V and LABEL v=${V} rebuilt.
    assert.deepEqual(cachedSteps(second), [false, true, true, true, true, false, false]);
    assert.notEqual(second.id, first.id);
    const cfg = await t.engine.images.inspect('args:2');
    assert.equal((cfg.Config as { Labels: Record<string, string> }).Labels.v, 'two');
    const history = await t.engine.images.history('args:2');
    assert.ok(history.some((h) => String(h.CreatedBy) === '|1 V=two /bin/sh -c echo $V > /v'), JSON.stringify(history.map((h) => h.CreatedBy)));
  });

  test('a failing RUN shows its output and exit code and tags nothing', async () => {
    await assert.rejects(
      build(t, { Dockerfile: 'FROM busybox\nRUN echo about to fail && exit 3\n' }, { tags: ['broken:1'] }),
      (err: Error & { output?: string }) => {
        assert.match(err.message, /The command '\/bin\/sh -c echo about to fail && exit 3' returned a non-zero code: 3/);
        assert.match(err.output ?? '', /about to fail/);
        return true;
      },
    );
    await assert.rejects(t.engine.images.inspect('broken:1'), /No such image/);
    const left = await t.engine.containers.list({ all: true });
    assert.equal(left.length, 0, 'the RUN container is removed');
  });

  test('COPY of a path outside the context or missing fails with the line', async () => {
    await assert.rejects(build(t, { Dockerfile: 'FROM busybox\nCOPY ../secret /x\n' }), /Dockerfile:2: COPY failed: forbidden path outside the build context: \.\.\/secret/);
    await assert.rejects(build(t, { Dockerfile: 'FROM busybox\nCOPY nothere /x\n' }), /Dockerfile:2: COPY failed: file not found in build context/);
    await assert.rejects(build(t, { Dockerfile: 'FROM busybox\nCOPPY a /x\n' }), /Dockerfile:2: unknown instruction: COPPY/);
  });

  test('image config: ENV, WORKDIR, USER, EXPOSE, VOLUME, ENTRYPOINT, STOPSIGNAL, HEALTHCHECK, SHELL, ONBUILD, heredocs, chown/chmod', async () => {
    const b = await build(t, {
      Dockerfile: [
        'FROM busybox',
        'ENV APP=/srv/app GREETING="hello world"',
        'WORKDIR $APP',
        'COPY --chown=1000:1000 --chmod=0750 run.sh ./',
        'COPY <<EOF /etc/motd',
        'welcome to ${APP}',
        'EOF',
        'RUN <<EOF',
        'echo "$GREETING" > /greeting',
        'id -u >> /greeting',
        'EOF',
        'ADD files.tar /unpacked/',
        'USER 1000',
        'EXPOSE 8080 53/udp',
        'VOLUME ["/data"]',
        'STOPSIGNAL SIGINT',
        'HEALTHCHECK --interval=5s --retries=2 CMD wget -q -O- http://localhost/ || exit 1',
        'SHELL ["/bin/sh", "-ec"]',
        'ONBUILD RUN echo child',
        'ENTRYPOINT ["/srv/app/run.sh"]',
      ].join('\n'),
      'run.sh': { content: '#!/bin/sh\necho run\n', mode: 0o755 },
      'files.tar': (await contextTar({ 'inside.txt': 'from a tar\n' })).toString('latin1'),
    }, { tags: ['cfg:1'] });
    void b;
    const inspect = await t.engine.images.inspect('cfg:1');
    const c = inspect.Config as Record<string, unknown>;
    assert.ok((c.Env as string[]).includes('GREETING=hello world'));
    assert.equal(c.WorkingDir, '/srv/app');
    assert.equal(c.User, '1000');
    assert.deepEqual(c.ExposedPorts, { '8080/tcp': {}, '53/udp': {} });
    assert.deepEqual(c.Volumes, { '/data': {} });
    assert.equal(c.StopSignal, 'SIGINT');
    assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'wget -q -O- http://localhost/ || exit 1'], Interval: 5e9, Retries: 2 });
    assert.deepEqual(c.Shell, ['/bin/sh', '-ec']);
    assert.deepEqual(c.OnBuild, ['RUN echo child']);
    assert.deepEqual(c.Entrypoint, ['/srv/app/run.sh']);
    assert.equal(c.Cmd, null);
    // What the files look like inside: run a container from the image.
    const r = await runToExit(t, {
      Image: 'cfg:1', User: '0', Entrypoint: ['sh', '-c'],
      Cmd: ['stat -c "%u:%g %a" /srv/app/run.sh; cat /etc/motd /greeting /unpacked/inside.txt'],
    });
    assert.equal(r.stdout + r.stderr, '1000:1000 750\nwelcome to /srv/app\nhello world\n0\nfrom a tar\n');
  });
});
