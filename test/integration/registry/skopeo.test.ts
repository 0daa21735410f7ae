/**
 * skopeo (containers/image, a third-party client) agreeing with hako: it copies an image hako
 * pushed from hako's registry to Debian's docker-registry and back, and reads `hako save` output
 * as docker-archive and as an OCI archive.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { startTestEngine, type TestEngine } from '../../support/engine.js';
import { htpasswdFile, startDistribution, startHakoRegistry, type Running } from './helpers.js';

const run = promisify(execFile);
const skopeo = (args: string[]) => run('skopeo', ['--insecure-policy', ...args], { timeout: 60_000 });

describe('skopeo and hako agree', () => {
  let te: TestEngine;
  let hreg: Running;
  let dreg: Running;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hako-skopeo-'));
    te = await startTestEngine();
    hreg = await startHakoRegistry();
    dreg = await startDistribution({ htpasswd: htpasswdFile(dir, 'alice', 's3cret') });
    await te.engine.images.tag('busybox:latest', `${hreg.host}/s/bb`, '1');
    await te.engine.registry.push(`${hreg.host}/s/bb:1`, { progress: () => {} });
  });
  after(async () => {
    await hreg?.close();
    await dreg?.close();
    await te?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies from hako registry to docker-registry and back, and hako pulls the result', async () => {
    await skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--dest-creds', 'alice:s3cret',
      `docker://${hreg.host}/s/bb:1`, `docker://${dreg.host}/copied/bb:1`]);
    await skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--src-creds', 'alice:s3cret',
      `docker://${dreg.host}/copied/bb:1`, `docker://${hreg.host}/back/bb:2`]);
    const { stdout } = await skopeo(['inspect', '--tls-verify=false', `docker://${hreg.host}/back/bb:2`]);
    const info = JSON.parse(stdout) as { Architecture: string; Layers: string[] };
    assert.equal(info.Architecture, 'amd64');
    assert.equal(info.Layers.length, 1);
    await te.engine.registry.pull(`${hreg.host}/back/bb:2`, { progress: () => {} });
    assert.equal((await te.engine.images.inspect(`${hreg.host}/back/bb:2`)).Id, (await te.engine.images.inspect('busybox:latest')).Id);
  });

  it('reads hako save output as docker-archive and as OCI archive', async () => {
    const tar = join(dir, 'save.tar');
    await pipeline(await te.engine.images.save(['busybox:latest']), createWriteStream(tar));
    const id = String((await te.engine.images.inspect('busybox:latest')).Id);
    const docker = JSON.parse((await skopeo(['inspect', '--config', `docker-archive:${tar}`])).stdout) as { rootfs: { diff_ids: string[] } };
    assert.equal(docker.rootfs.diff_ids.length, 1);
    const ociConfig = (await skopeo(['inspect', '--raw', '--config', `oci-archive:${tar}`])).stdout;
    assert.equal(`sha256:${(await import('node:crypto')).createHash('sha256').update(ociConfig).digest('hex')}`, id);
    // And skopeo can push what hako saved to a registry hako then pulls from.
    await skopeo(['copy', '--dest-tls-verify=false', `docker-archive:${tar}`, `docker://${hreg.host}/fromsave/bb:1`]);
    await te.engine.registry.pull(`${hreg.host}/fromsave/bb:1`, { progress: () => {} });
    assert.equal((await te.engine.images.inspect(`${hreg.host}/fromsave/bb:1`)).Id, id);
  });
});
