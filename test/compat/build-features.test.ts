/**
 * `DOCKER_BUILDKIT=0 docker build` and `hako build` against hakod for ADD of a URL (served by a
 * server on 127.0.0.1 this file starts), --cache-from an image that came back by `docker load`,
 * and hako's --no-cache-filter.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startHakod, type Hakod } from '../support/hakod.js';
import { ok } from './expect.js';

describe('docker build --cache-from, ADD URL and hako build --no-cache-filter against hakod', () => {
  let d: Hakod;
  let server: Server;
  let url = '';
  const work = mkdtempSync(join(tmpdir(), 'hako-compat-buildfeat-'));
  const ctx = join(work, 'app');
  const legacy = (): { env: Record<string, string>; timeoutMs: number } => ({ env: { ...(d.env as Record<string, string>), DOCKER_BUILDKIT: '0' }, timeoutMs: 60_000 });

  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/tool.sh') res.writeHead(200, { 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT' }).end('echo tool v1\n');
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tool.sh`;
    d = await startHakod();
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), [
      'FROM busybox AS tools',
      `ADD ${url} /opt/`,
      'RUN sh /opt/tool.sh > /opt/out && stat -c "mode=%a" /opt/tool.sh',
      'FROM busybox',
      'COPY app.txt /app.txt',
      'COPY --from=tools /opt/out /out',
      'CMD ["cat", "/out"]',
    ].join('\n'));
    writeFileSync(join(ctx, 'app.txt'), 'app\n');
  });
  after(async () => {
    try {
      await new Promise<void>((r) => { if (server) server.close(() => r()); else r(); });
      await d?.stop();
    } finally { rmSync(work, { recursive: true, force: true }); }
  });

  it('docker build ADDs a URL with mode 600', async () => {
    const out = ok(await d.docker(['build', '-t', 'feat:1', ctx], legacy()), d);
    assert.match(out, /^mode=600$/m);
    assert.equal(ok(await d.docker(['run', '--rm', 'feat:1'], legacy()), d), 'tool v1\n');
  });

  it('docker build --cache-from reuses a loaded image\'s layers after the cache is gone', async () => {
    const tar = join(work, 'feat.tar');
    ok(await d.docker(['save', '-o', tar, 'feat:1']), d);
    ok(await d.docker(['rmi', 'feat:1']), d);
    ok(await d.docker(['builder', 'prune', '-af']), d);
    ok(await d.docker(['load', '-i', tar]), d);
    // The final stage's steps come from feat:1's history; the tools stage (not in feat:1) runs again.
    const out = ok(await d.docker(['build', '--cache-from', 'feat:1', '-t', 'feat:2', ctx], legacy()), d);
    const steps = out.split(/^Step \d+\/\d+ : /m).slice(1);
    const final = steps.slice(3).map((s) => s.includes(' ---> Using cache'));
    assert.deepEqual(final, [false, true, true, true], out);
    const ids = ok(await d.docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', 'feat:1', 'feat:2']), d).trim().split('\n');
    assert.equal(ids[1], ids[0]);
  });

  it('hako build --no-cache-filter rebuilds the named stage and says CACHED for the others', async () => {
    const out = ok(await d.hako(['build', '--progress', 'plain', '--no-cache-filter', 'tools', '-t', 'feat:3', ctx], { timeoutMs: 60_000 }), d);
    const cached = out.split('\n').filter((l) => / CACHED$/.test(l)).map((l) => l.replace(/ CACHED$/, ''));
    // Steps 5 (COPY app.txt) is cached; 2-3 (the tools stage) are not.
    assert.ok(cached.includes('#5'), out);
    assert.ok(!cached.includes('#2') && !cached.includes('#3'), out);
  });
});
