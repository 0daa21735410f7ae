/**
 * COPY into a directory the step makes takes the fast path (src/build/copy.ts): files whose owner
 * and mode stay are hard-linked from the source layer or the build context. What a user must see
 * is what a copy gives: owners, modes and bytes as COPY defines them, and images that stay apart
 * (a container changing a copied file changes neither image).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { engineForFile, runToExit, type TestEngine } from '../../support/engine.js';
import { build } from './support.js';

/** What `script` prints (stdout, then stderr) as root in a container of `image`. */
async function runIn(t: TestEngine, image: string, script: string): Promise<string> {
  const r = await runToExit(t, { Image: image, User: '0', Entrypoint: ['sh', '-c'], Cmd: [script] });
  return r.stdout + r.stderr;
}

const DOCKERFILE = `FROM busybox AS src
RUN mkdir -p /out/sub && echo one > /out/f && echo two > /out/sub/g && ln -s f /out/l && chown 5:6 /out/sub/g && chmod 640 /out/sub/g && cp /bin/busybox /out/suid && chmod 4755 /out/suid
FROM busybox
COPY --from=src /out /app
COPY --from=src --chown=7:8 /out /owned
COPY files/ /ctx/
COPY --chmod=600 files/ /ctxmode/
COPY --chown=9:9 files/suid /one/suid
`;

describe('COPY into a new directory', { concurrency: false }, () => {
  const t = engineForFile();

  test('keeps owners, modes and bytes as COPY defines them, and the images stay apart', async () => {
    const files = { Dockerfile: DOCKERFILE, 'files/x': { content: 'ctx file\n', mode: 0o755 }, 'files/d/y': 'deeper\n', 'files/suid': { content: '#!/bin/sh\n', mode: 0o4755 } };
    await build(t, files, { tags: ['copy-link:1'], networkMode: 'none' });
    await build(t, files, { tags: ['copy-link-src:1'], target: 'src', networkMode: 'none' });
    const stat = 'stat -c "%u:%g %a %n" /app/f /app/sub/g /app/suid /owned/f /owned/sub/g /owned/suid /ctx/x /ctx/d/y /ctx/suid /ctxmode/x /one/suid; readlink /app/l; cat /app/f /app/sub/g /ctx/x /ctxmode/d/y';
    assert.equal(await runIn(t, 'copy-link:1', stat), [
      '0:0 644 /app/f', '5:6 640 /app/sub/g', '0:0 4755 /app/suid', '7:8 644 /owned/f', '7:8 640 /owned/sub/g', '7:8 4755 /owned/suid',
      '0:0 755 /ctx/x', '0:0 644 /ctx/d/y', '0:0 4755 /ctx/suid', '0:0 600 /ctxmode/x', '9:9 4755 /one/suid', 'f', 'one', 'two', 'ctx file', 'deeper', '',
    ].join('\n'));
    // A container writing to the copies (overlay copies them up) changes no image.
    assert.equal(await runIn(t, 'copy-link:1', 'echo changed > /app/f; chmod 600 /app/sub/g; echo changed > /ctx/x; cat /app/f'), 'changed\n');
    assert.equal(await runIn(t, 'copy-link:1', 'stat -c "%a" /app/sub/g; cat /app/f /ctx/x'), '640\none\nctx file\n');
    assert.equal(await runIn(t, 'copy-link-src:1', 'stat -c "%u:%g %a" /out/sub/g; cat /out/f'), '5:6 640\none\n');
  });
});
