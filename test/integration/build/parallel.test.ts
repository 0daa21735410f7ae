import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { engineForFile } from '../../support/engine.js';
import { build, layerPaths } from './support.js';

describe('hako build runs independent stages at the same time', { concurrency: false }, () => {
  const t = engineForFile();

  // Each stage announces its start in a shared cache mount and waits (up to 15 s) to see the
  // other's: only stages that overlap in time can both see each other.
  const stage = (me: string, other: string): string[] => [
    `FROM busybox AS ${me}`,
    `RUN --mount=type=cache,target=/sync,id=sync touch /sync/${me}; i=0; while [ ! -e /sync/${other} ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i+1)); done; if [ -e /sync/${other} ]; then echo "${me} saw ${other}"; fi; echo ${me} > /${me}.txt`,
  ];

  test('two stages the final one copies from overlap, and the output stays in Dockerfile order', async () => {
    const started = Date.now();
    const b = await build(t, {
      Dockerfile: [
        ...stage('left', 'right'),
        ...stage('right', 'left'),
        'FROM busybox',
        'COPY --from=left /left.txt /',
        'COPY --from=right /right.txt /',
      ].join('\n'),
    }, { noCache: true, tags: ['parallel:1'] });
    assert.match(b.output, /^left saw right$/m);
    assert.match(b.output, /^right saw left$/m);
    assert.ok(Date.now() - started < 15_000, 'neither stage waited for the other to time out');
    const steps = [...b.output.matchAll(/^Step (\d+)\/7 : /gm)].map((m) => Number(m[1]));
    assert.deepEqual(steps, [1, 2, 3, 4, 5, 6, 7]);
    assert.ok(b.output.indexOf('left saw right') < b.output.indexOf('Step 3/7'), 'the first stage\'s output comes before the second stage\'s steps');
    const paths = await layerPaths(t, 'parallel:1');
    assert.ok(paths.includes('left.txt') && paths.includes('right.txt'));
  });

  test('when one stage fails the build fails with its error and output, and nothing is tagged', async () => {
    await assert.rejects(build(t, {
      Dockerfile: ['FROM busybox AS a', 'RUN sleep 0.3 && echo a-ran', 'FROM busybox AS b', 'RUN echo b-broke && exit 3', 'FROM busybox', 'COPY --from=a /etc/passwd /a', 'COPY --from=b /etc/passwd /b'].join('\n'),
    }, { noCache: true, tags: ['parallel:broken'] }), (err: Error & { output?: string }) => {
      assert.match(err.message, /returned a non-zero code: 3/);
      assert.match(err.output ?? '', /^b-broke$/m);
      return true;
    });
    await assert.rejects(t.engine.images.inspect('parallel:broken'), /No such image/);
  });
});
