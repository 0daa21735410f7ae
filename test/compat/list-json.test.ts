/**
 * `--format json` of the list commands: hako prints what the docker CLI 28 prints against the same
 * hakod, byte for byte (one object per line, keys sorted as docker's formatter contexts marshal
 * them, `<none>` as \u003cnone\u003e), except the fields that say how long ago something happened.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHakod, type Hakod } from '../support/hakod.js';
import { ok } from './expect.js';

/** Times relative to now ("1 second ago", "Up Less than a second") differ between two runs. */
function steady(out: string): string {
  return out
    .replace(/"(CreatedSince|RunningFor)":"[^"]*"/g, '"$1":"…"')
    .replace(/"Status":"Up [^"]*"/g, '"Status":"Up …"');
}

describe('--format json of images, ps, network ls and volume ls matches the docker CLI', () => {
  let d: Hakod;
  before(async () => {
    d = await startHakod();
    ok(await d.hako(['volume', 'create', '--label', 'tier=data', 'jsonvol']), d);
    ok(await d.hako(['network', 'create', '--label', 'team=a&b', 'jsonnet']), d);
    ok(await d.hako(['run', '-d', '--name', 'json1', '--label', 'role=<web>', '-v', 'jsonvol:/data', '--network', 'jsonnet', 'busybox', 'sleep', '60']), d);
    ok(await d.hako(['create', '--name', 'json2', 'busybox', 'true']), d);
    ok(await d.hako(['tag', 'busybox:latest', 'localhost:5000/team/app:2']), d);
  });
  after(async () => {
    try {
      await d?.hako(['rm', '-f', 'json1', 'json2']);
      await d?.hako(['network', 'rm', 'jsonnet']);
    } finally {
      await d?.stop();
    }
  });

  const cases: string[][] = [
    ['images', '--format', 'json'],
    ['images', '--no-trunc', '--digests', '--format', 'json'],
    ['images', '--format', '{{json .}}'],
    ['ps', '-a', '--format', 'json'],
    ['ps', '-a', '--no-trunc', '--format', '{{json .}}'],
    ['ps', '-s', '--format', 'json'],
    ['network', 'ls', '--format', 'json'],
    ['network', 'ls', '--no-trunc', '--format', '{{json .}}'],
    ['volume', 'ls', '--format', 'json'],
    ['volume', 'ls', '--format', '{{json .}}'],
  ];
  for (const args of cases) {
    it(`hako ${args.join(' ')} prints what docker prints`, async () => {
      const docker = ok(await d.docker(args), d);
      const hako = ok(await d.hako(args), d);
      assert.ok(docker.trim().length > 0);
      // docker lists the repositories of one image in Go's random map order (imageFormatTaggedAndDigest).
      const lines = (s: string) => (args[0] === 'images' ? steady(s).split('\n').sort().join('\n') : steady(s));
      assert.equal(lines(hako), lines(docker));
      for (const line of hako.trimEnd().split('\n')) JSON.parse(line);
    });
  }

  it('an image without a tag shows <none> escaped, as Go\'s json.Marshal writes it', async () => {
    const out = ok(await d.hako(['images', '--format', 'json']), d);
    assert.match(out, /"Digest":"\\u003cnone\\u003e"/);
    const ps = ok(await d.hako(['ps', '-a', '--filter', 'name=json1', '--format', 'json']), d);
    assert.match(ps, /"Labels":"role=\\u003cweb\\u003e"/);
    assert.match(ps, /"Platform":null,"Ports"/);
  });
});
