/**
 * dockerode against hakod, unchanged: a Docker client built from DOCKER_HOST's socket drives
 * containers (ports, env, labels, volumes), attach and logs through its stdcopy demuxer, exec,
 * archives, wait/stop/remove, a build from a context directory, networks, volumes, events and df.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { PassThrough, type Readable } from 'node:stream';
import { execFileSync } from 'node:child_process';
import Docker from 'dockerode';
import { startHakod, type Hakod } from '../support/hakod.js';
import { htpasswdFile, startHakoRegistry } from '../integration/registry/helpers.js';

/** Collects a multiplexed (stdcopy) stream into stdout and stderr with dockerode's own demuxer. */
function demux(docker: Docker, stream: NodeJS.ReadableStream): Promise<{ stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  out.on('data', (b: Buffer) => o.push(b));
  err.on('data', (b: Buffer) => e.push(b));
  docker.modem.demuxStream(stream, out, err);
  return new Promise((resolve, reject) => {
    stream.on('end', () => resolve({ stdout: Buffer.concat(o).toString(), stderr: Buffer.concat(e).toString() }));
    stream.on('error', reject);
  });
}

async function readAll(stream: Readable | NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const b of stream as AsyncIterable<Buffer>) chunks.push(Buffer.from(b));
  return Buffer.concat(chunks);
}

describe('dockerode against hakod', () => {
  let d: Hakod;
  let docker: Docker;
  const work = mkdtempSync(join(tmpdir(), 'hako-sdk-dockerode-'));
  before(async () => {
    d = await startHakod();
    docker = new Docker({ socketPath: d.socket });
  });
  after(async () => {
    try { await d?.stop(); } finally { rmSync(work, { recursive: true, force: true }); }
  });

  it('ping, version, info and listImages answer in Docker shapes', async () => {
    assert.equal(String(await docker.ping()), 'OK');
    const v = await docker.version();
    assert.equal(v.ApiVersion, '1.47');
    const info = await docker.info() as { Images: number; Driver: string };
    assert.ok(info.Images >= 1);
    const images = await docker.listImages({ filters: { reference: ['busybox'] } });
    assert.deepEqual(images.map((i) => i.RepoTags), [['busybox:latest']]);
    await docker.getImage('busybox').tag({ repo: 'dockerode/bb', tag: 'v1' });
    assert.equal((await docker.getImage('dockerode/bb:v1').inspect()).Id, images[0]!.Id);
  });

  it('a container with a published port, env, labels and a volume serves on 127.0.0.1 and is stopped, waited and removed', async () => {
    const c = await docker.createContainer({
      Image: 'busybox', name: 'dockerode-web',
      Cmd: ['sh', '-c', 'mkdir -p /www && echo "hi $WHO" > /www/index.html && echo ready && exec httpd -f -p 8080 -h /www'],
      Env: ['WHO=dockerode'], Labels: { sdk: 'dockerode' }, ExposedPorts: { '8080/tcp': {} },
      HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '0' }] }, Binds: ['dockerode-vol:/data'] },
    });
    const attach = await c.attach({ stream: true, stdout: true, stderr: true });
    const attached = demux(docker, attach);
    await c.start();
    const info = await c.inspect();
    const port = Number(info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort);
    assert.ok(port > 0, JSON.stringify(info.NetworkSettings.Ports));
    assert.equal(info.Mounts[0]?.Name, 'dockerode-vol');
    let body = '';
    for (let i = 0; i < 200 && !body; i++) {
      try { body = await (await fetch(`http://127.0.0.1:${port}/`)).text(); } catch { await new Promise((r) => setTimeout(r, 25)); }
    }
    assert.equal(body, 'hi dockerode\n');
    const listed = await docker.listContainers({ filters: { label: ['sdk=dockerode'] } });
    assert.deepEqual(listed.map((x) => x.Names), [['/dockerode-web']]);
    assert.equal(listed[0]!.Ports[0]?.PublicPort, port);

    const exec = await c.exec({ Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 5'], AttachStdout: true, AttachStderr: true });
    const execOut = await demux(docker, await exec.start({ hijack: true, stdin: false }));
    assert.deepEqual(execOut, { stdout: 'out\n', stderr: 'err\n' });
    assert.equal((await exec.inspect()).ExitCode, 5);

    const logs = await c.logs({ stdout: true, stderr: true, follow: false });
    assert.match(logs.toString(), /ready\n$/);

    const stopped = c.wait();
    await c.stop({ t: 2 });
    assert.equal(typeof (await stopped).StatusCode, 'number');
    assert.match((await attached).stdout, /^ready\n/);
    await c.remove({ v: true });
    await assert.rejects(c.inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
  });

  it('docker.run, exec with stdin, stats, plugins and swarm calls answer as dockerd outside a swarm', async () => {
    const out = new PassThrough();
    const seen: Buffer[] = [];
    out.on('data', (b: Buffer) => seen.push(b));
    const [result, c] = await docker.run('busybox', ['sh', '-c', 'echo via run; exit 2'], out) as [{ StatusCode: number }, Docker.Container];
    assert.equal(result.StatusCode, 2);
    assert.equal(Buffer.concat(seen).toString(), 'via run\r\n'); // docker.run makes a TTY container
    await c.remove();

    const s = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '60'] });
    try {
      await s.start();
      const exec = await s.exec({ Cmd: ['sh', '-c', 'tr a-z A-Z'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({ hijack: true, stdin: true });
      const done = demux(docker, stream);
      stream.end('piped in\n');
      assert.deepEqual(await done, { stdout: 'PIPED IN\n', stderr: '' });
      const stats = await s.stats({ stream: false });
      assert.equal(stats.pids_stats?.current, 1);
    } finally {
      await s.remove({ force: true });
    }
    assert.deepEqual(await docker.listPlugins(), []);
    await assert.rejects(docker.listServices(), (e: { statusCode?: number; message: string }) => e.statusCode === 503 && /not a swarm manager/.test(e.message));
  });

  it('putArchive and getArchive copy tar files in and out', async () => {
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '60'] });
    try {
      writeFileSync(join(work, 'in.txt'), 'copied in\n');
      const tar = execFileSync('tar', ['-C', work, '-cf', '-', 'in.txt']);
      await c.putArchive(tar, { path: '/tmp' });
      await c.start();
      const out = await readAll(await c.getArchive({ path: '/tmp/in.txt' }));
      assert.match(out.toString('latin1'), /copied in\n/);
      assert.equal(out.subarray(0, 6).toString(), 'in.txt');
    } finally {
      await c.remove({ force: true });
    }
  });

  it('buildImage from a context directory reports progress and makes a runnable image', async () => {
    writeFileSync(join(work, 'Dockerfile'), 'FROM busybox\nCOPY in.txt /in.txt\nCMD ["cat", "/in.txt"]\n');
    writeFileSync(join(work, 'in.txt'), 'built by dockerode\n');
    const stream = await docker.buildImage({ context: work, src: ['Dockerfile', 'in.txt'] }, { t: 'dockerode/built:1' });
    const events = await new Promise<Array<{ stream?: string; error?: string }>>((resolve, reject) => {
      docker.modem.followProgress(stream, (err: Error | null, res: Array<{ stream?: string }>) => err ? reject(err) : resolve(res));
    });
    assert.ok(events.some((e) => /Successfully tagged dockerode\/built:1/.test(e.stream ?? '')), JSON.stringify(events));
    const c = await docker.createContainer({ Image: 'dockerode/built:1' });
    await c.start();
    assert.equal((await c.wait()).StatusCode, 0);
    assert.match((await c.logs({ stdout: true })).toString(), /built by dockerode\n$/);
    await c.remove();
  });

  it('login, push and pull through a local registry report progress dockerode follows', async () => {
    const reg = await startHakoRegistry({ htpasswd: htpasswdFile(work, 'alice', 's3cret') });
    try {
      const authconfig = { username: 'alice', password: 's3cret', serveraddress: `localhost:${reg.port}` };
      assert.equal((await docker.checkAuth(authconfig) as { Status: string }).Status, 'Login Succeeded');
      const name = `localhost:${reg.port}/sdk/busybox`;
      await docker.getImage('busybox').tag({ repo: name, tag: 'v1' });
      const follow = (stream: NodeJS.ReadableStream) => new Promise<Array<{ status?: string; error?: string }>>((resolve, reject) => {
        docker.modem.followProgress(stream, (err: Error | null, res: Array<{ status?: string }>) => err ? reject(err) : resolve(res));
      });
      const pushed = await follow(await docker.getImage(`${name}:v1`).push({ authconfig }));
      assert.ok(pushed.some((m) => /^v1: digest: sha256:[0-9a-f]{64} size: \d+$/.test(m.status ?? '')), JSON.stringify(pushed));
      await docker.getImage(`${name}:v1`).remove();
      // As dockerd: a failure before any progress is the HTTP status (401), not an in-band error.
      await assert.rejects(async () => follow(await docker.pull(`${name}:v1`)), (e: { statusCode?: number; message: string }) =>
        e.statusCode === 401 && /authentication required/.test(e.message));
      const pulled = await follow(await docker.pull(`${name}:v1`, { authconfig }));
      assert.ok(pulled.some((m) => m.status === `Status: Downloaded newer image for ${name}:v1`), JSON.stringify(pulled));
      assert.equal((await docker.getImage(`${name}:v1`).inspect()).Id, (await docker.getImage('busybox').inspect()).Id);
    } finally {
      await reg.close();
    }
  });

  it('networks, volumes, events and df', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const net = await docker.createNetwork({ Name: 'dockerode-net', Labels: { sdk: 'dockerode' } });
    const server = await docker.createContainer({ Image: 'busybox', name: 'dockerode-srv', Cmd: ['httpd', '-f', '-p', '80', '-h', '/etc'] });
    await server.start();
    await net.connect({ Container: server.id, EndpointConfig: { Aliases: ['backend'] } });
    const probe = await docker.createContainer({
      Image: 'busybox', Cmd: ['wget', '-q', '-O', '-', 'http://backend/hostname'], HostConfig: { NetworkMode: 'dockerode-net' },
    });
    await probe.start();
    assert.equal((await probe.wait()).StatusCode, 0);
    assert.equal((await probe.logs({ stdout: true })).toString().slice(-13), `${server.id.slice(0, 12)}\n`);
    await probe.remove();
    await server.remove({ force: true });
    await net.remove();

    const vol = await docker.createVolume({ Name: 'dockerode-made', Labels: { sdk: 'dockerode' } }) as unknown as Docker.Volume;
    assert.equal((await vol.inspect()).Driver, 'local');
    const vols = await docker.listVolumes({ filters: { label: ['sdk=dockerode'] } });
    assert.deepEqual(vols.Volumes.map((x) => x.Name), ['dockerode-made']);
    await docker.getVolume('dockerode-made').remove();

    const until = Math.floor(Date.now() / 1000) + 1;
    const events = (await readAll(await docker.getEvents({ since, until, filters: { type: ['network'], network: ['dockerode-net'] } }))).toString()
      .trim().split('\n').map((l) => JSON.parse(l) as { Action: string; Actor: { Attributes: { name?: string } } });
    // As docker: connect when the running server is connected and when the probe starts, disconnect when each stops.
    assert.deepEqual(events.map((e) => e.Action), ['create', 'connect', 'connect', 'disconnect', 'disconnect', 'destroy']);

    const df = await docker.df() as { Images: unknown[]; LayersSize: number };
    assert.ok(df.Images.length >= 1 && df.LayersSize > 0);
    const pruned = await docker.pruneContainers();
    assert.ok(Array.isArray(pruned.ContainersDeleted) || pruned.ContainersDeleted === null);
  });
});
