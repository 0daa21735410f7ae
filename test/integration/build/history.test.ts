/**
 * `docker history` parity: the history hako writes for a Dockerfile with every instruction the
 * legacy builder knows. The expected lines were produced by dockerd 20.10 (Debian's docker.io,
 * `DOCKER_BUILDKIT=0 docker build` of this very context, history.test's HISTORY_DOCKERFILE and
 * historyContext()) and pinned here, so the test needs no dockerd. One deliberate difference:
 * HEALTHCHECK entries carry a fourth duration, StartInterval ("0s"), which Docker 25+ (API 1.44+,
 * hako's API 1.47) prints and 20.10 did not. Docker's own quirks are kept on purpose: no space
 * after `--chown=…` in COPY/ADD, COPY destinations as written, a trailing space after them.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { humanSizeWithPrecision } from '../../../src/cli/format/index.js';
import { engineForFile } from '../../support/engine.js';
import { historyContext } from './history-context.js';

describe('build history matches docker\'s legacy builder', { concurrency: false }, () => {
  const t = engineForFile();

  test('created_by, size and comment of every step are docker\'s, oldest first', async () => {
    const builder = t.engine.build;
    assert.ok(builder, 'the engine has a builder');
    let output = '';
    const id = await builder.build(Readable.from(await historyContext()), {
      tags: ['hist:1'], buildArgs: { B: '2', NOVAL: 'v', HTTP_PROXY: 'http://p:1' }, labels: { x: 'y' }, networkMode: 'none',
    }, (m) => { if (typeof m.stream === 'string') output += m.stream; }).catch((err: Error) => { throw new Error(`${err.message}\n${output}`); });
    assert.ok(id.startsWith('sha256:'));
    const history = await t.engine.images.history('hist:1');
    // Newest first, as the API answers; the base image's own entry (the busybox import) is left out.
    const rows = history.slice(0, -1).map((h) => `${String(h.CreatedBy)}|${humanSizeWithPrecision(Number(h.Size ?? 0), 3)}|${String(h.Comment ?? '')}`);
    assert.deepEqual(rows.reverse(), [
      '/bin/sh -c #(nop)  MAINTAINER someone <a@b.c>|0B|',
      '/bin/sh -c #(nop)  ARG A=1|0B|',
      '/bin/sh -c #(nop)  ARG B|0B|',
      '/bin/sh -c #(nop)  ENV E1=v1 E2=two words|0B|',
      '/bin/sh -c #(nop)  ENV LEGACY=legacy value|0B|',
      '/bin/sh -c #(nop)  ENV PATH=/opt/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|0B|',
      '/bin/sh -c #(nop)  LABEL l1=v1 l 2=v 2|0B|',
      '/bin/sh -c #(nop) WORKDIR /app|0B|',
      '/bin/sh -c #(nop) WORKDIR /app/sub|0B|',
      '|2 A=1 B=2 /bin/sh -c echo $A $B > args|4B|',
      '|2 A=1 B=2 sh -c echo exec > exec|5B|',
      '/bin/sh -c #(nop) COPY file:00ec16333078d287782d462baefc8bb9eb0231dc3aefba3ca3e2f7e5cf0cadda in /dst/ |6B|',
      '/bin/sh -c #(nop) COPY multi:6ece257e02c6d5af9785b6aaa3838e5a4d018ce203822272fce5db893b123730 in /multi/ |12B|',
      '/bin/sh -c #(nop) COPY dir:6b9ceaa97a3e0d73a2966894c95db322a6dc089c7ee4c7a81d60e462140af8d4 in /d |5B|',
      '/bin/sh -c #(nop) COPY dir:6b9ceaa97a3e0d73a2966894c95db322a6dc089c7ee4c7a81d60e462140af8d4 in ./rel/ |5B|',
      '/bin/sh -c #(nop) COPY multi:6ece257e02c6d5af9785b6aaa3838e5a4d018ce203822272fce5db893b123730 in /w/ |12B|',
      '/bin/sh -c #(nop) COPY dir:7a746e206777a4f2dfaf9daaf8ac139c2ecc918c639a75777520336d77d0b662 in . |4.13kB|',
      '/bin/sh -c #(nop) COPY --chown=1001:1001file:00ec16333078d287782d462baefc8bb9eb0231dc3aefba3ca3e2f7e5cf0cadda in /owned |6B|',
      '/bin/sh -c #(nop) ADD --chown=appfile:00ec16333078d287782d462baefc8bb9eb0231dc3aefba3ca3e2f7e5cf0cadda in added/ |6B|',
      '/bin/sh -c #(nop) ADD file:04b427e6f62f14c82e4c33c395b5ce94707cf9ef8a0de9b8b2d564f24c9d7dca in /ex/ |8B|',
      '/bin/sh -c #(nop) COPY dir:12d1a99938c973fb874ddd6bc9e0677a72dd39fb915360f99265a77555763ab5 in /out |5B|',
      '/bin/sh -c #(nop) COPY file:ce56a2f62b711950223f10719ae02f16890bb7053a557aa32a427b531bd69a09 in /froma |2B|',
      '/bin/sh -c #(nop)  EXPOSE 80 90/udp 9000-9001/tcp|0B|',
      '/bin/sh -c #(nop)  VOLUME [/v1 /v2]|0B|',
      '/bin/sh -c #(nop)  VOLUME [/v3]|0B|',
      '/bin/sh -c #(nop)  USER app:app|0B|',
      '/bin/sh -c #(nop)  USER root|0B|',
      '/bin/sh -c #(nop)  STOPSIGNAL SIGTERM|0B|',
      '/bin/sh -c #(nop)  HEALTHCHECK &{["CMD" "true"] "1m30s" "500ms" "2s" "0s" \'A\'}|0B|',
      '/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "echo ok"] "5s" "3s" "0s" "0s" \'\\x02\'}|0B|',
      '/bin/sh -c #(nop)  HEALTHCHECK &{["NONE"] "0s" "0s" "0s" "0s" \'\\x00\'}|0B|',
      '/bin/sh -ec #(nop)  SHELL [/bin/sh -ec]|0B|',
      '|2 A=1 B=2 /bin/sh -ec echo shelled > /shelled|8B|',
      '/bin/sh -ec #(nop)  ONBUILD RUN echo onbuild|0B|',
      '/bin/sh -ec #(nop)  ENTRYPOINT ["/bin/sh"]|0B|',
      '/bin/sh -ec #(nop)  CMD ["-c" "echo hi"]|0B|',
      '/bin/sh -ec #(nop)  ENTRYPOINT ["/bin/sh" "-ec" "echo ep"]|0B|',
      '/bin/sh -ec #(nop)  CMD ["/bin/sh" "-ec" "echo cmd"]|0B|',
      '|2 A=1 B=2 /bin/sh -ec true|0B|',
      '/bin/sh -ec #(nop)  LABEL x=y|0B|',
    ]);
  });
});
