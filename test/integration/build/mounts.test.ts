import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { engineForFile } from '../../support/engine.js';
import { build, layerPaths, savedMembers } from './support.js';

describe('RUN --mount', { concurrency: false }, () => {
  const t = engineForFile();

  test('a cache mount persists between builds and never reaches a layer', async () => {
    const files = {
      Dockerfile: [
        'FROM busybox',
        'RUN --mount=type=cache,target=/cache,id=counter,sharing=locked n=$(cat /cache/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /cache/n; echo "count=$n"; echo $n > /seen',
      ].join('\n'),
    };
    const first = await build(t, files, { noCache: true, tags: ['cachemount:1'] });
    assert.match(first.output, /^count=1$/m);
    const second = await build(t, files, { noCache: true, tags: ['cachemount:2'] });
    assert.match(second.output, /^count=2$/m);
    const paths = await layerPaths(t, 'cachemount:2');
    assert.ok(paths.includes('seen'), 'the RUN step wrote its layer');
    assert.ok(!paths.some((p) => p === 'cache' || p.startsWith('cache/')), `no cache dir in the layers: ${paths.filter((p) => p.startsWith('cache')).join(', ')}`);
  });

  test('a secret is readable during RUN and absent from every layer and from history', async () => {
    const secret = 'S3CRET-d41d8cd98f00b204';
    const b = await build(t, {
      Dockerfile: [
        'FROM busybox',
        'RUN --mount=type=secret,id=token test "$(cat /run/secrets/token)" = "' + secret.slice(0, 6) + '$(cat /run/secrets/token | cut -c7-)" && echo "secret-bytes=$(wc -c < /run/secrets/token)" && cp /run/secrets/token /dev/null && touch /used',
        'RUN --mount=type=secret,id=token,env=TOKEN,target=/etc/tok echo "env-len=${#TOKEN}" && wc -c < /etc/tok > /tok-size',
      ].join('\n'),
    }, { secrets: { token: Buffer.from(secret) }, tags: ['secretimg:1'] });
    assert.match(b.output, new RegExp(`^secret-bytes=${secret.length}$`, "m"));
    assert.match(b.output, new RegExp(`^env-len=${secret.length}$`, "m"));
    const members = await savedMembers(t, 'secretimg:1');
    for (const [name, bytes] of members) assert.ok(!bytes.includes(secret), `${name} must not hold the secret`);
    const paths = await layerPaths(t, 'secretimg:1');
    assert.ok(paths.includes('used') && paths.includes('tok-size'));
    assert.ok(!paths.some((p) => p.startsWith('run/secrets') || p === 'etc/tok'), `no secret files in layers: ${paths.join(' ')}`);
    const history = JSON.stringify(await t.engine.images.history('secretimg:1'));
    assert.ok(!history.includes(secret), 'history must not hold the secret');
  });

  test('a required secret that was not passed fails the step with a clear message', async () => {
    await assert.rejects(build(t, { Dockerfile: 'FROM busybox\nRUN --mount=type=secret,id=missing,required cat /run/secrets/missing\n' }),
      /Dockerfile:2: RUN failed: secret missing: not provided: pass it with --secret id=missing/);
  });

  test('bind mounts show the context and other stages read-only; rw writes are thrown away; tmpfs is empty scratch space', async () => {
    const b = await build(t, {
      'data/a.txt': 'from-context\n',
      Dockerfile: [
        'FROM busybox AS first',
        'RUN mkdir /out && echo from-stage > /out/x',
        'FROM busybox',
        'RUN --mount=type=bind,source=data,target=/data --mount=type=bind,from=first,source=/out,target=/o --mount=type=tmpfs,target=/scratch cat /data/a.txt /o/x && echo t > /scratch/f && ls /scratch && ! touch /data/new 2>/dev/null && echo ro-ok && touch /kept',
        'RUN --mount=type=bind,source=data,target=/data,rw echo changed > /data/a.txt && cat /data/a.txt',
        'RUN --mount=type=bind,target=/ctx cat /ctx/data/a.txt',
      ].join('\n'),
    }, { tags: ['bindimg:1'] });
    assert.match(b.output, /^from-context\nfrom-stage\nf\nro-ok$/m);
    assert.match(b.output, /^changed$/m);
    assert.equal(b.output.match(/^from-context$/gm)?.length, 2, 'the rw write did not reach the context');
    const paths = await layerPaths(t, 'bindimg:1');
    assert.ok(paths.includes('kept'));
    assert.ok(!paths.some((p) => /^(data|o|scratch|ctx)(\/|$)/.test(p)), `no mount contents in layers: ${paths.join(' ')}`);
  });

  test('a changed file under a bind mount\'s source reruns the step; the same content is a cache hit', async () => {
    const df = 'FROM busybox\nRUN --mount=type=bind,source=data,target=/data cat /data/v > /v\n';
    const one = await build(t, { Dockerfile: df, 'data/v': '1' });
    const again = await build(t, { Dockerfile: df, 'data/v': '1' });
    assert.equal(again.id, one.id);
    assert.match(again.output, /Using cache/);
    const two = await build(t, { Dockerfile: df, 'data/v': '2' });
    assert.notEqual(two.id, one.id);
  });

  test('bad mount specs name the problem', async () => {
    await assert.rejects(build(t, { Dockerfile: 'FROM busybox\nRUN --mount=type=nfs,target=/x true\n' }), /unsupported mount type "nfs"/);
    await assert.rejects(build(t, { Dockerfile: 'FROM busybox\nRUN --mount=type=cache true\n' }), /a cache mount needs target=/);
  });
});
