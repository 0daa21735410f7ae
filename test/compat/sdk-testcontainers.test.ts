/**
 * Testcontainers for Node against hakod, unchanged: DOCKER_HOST at a test hakod, Ryuk off (its
 * image cannot be pulled offline; the containers are stopped here and hakod's stop() removes the
 * rest). A GenericContainer serving HTTP with each wait strategy, mapped ports reached on
 * 127.0.0.1, exec, copying into a container, logs, stop, options, reuse, an image built from a
 * Dockerfile, a DockerComposeEnvironment (through the docker CLI and hako's compose plugin), and a
 * Network whose containers reach each other by alias.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startHakod, REPO_ROOT, type Hakod } from '../support/hakod.js';

type TC = typeof import('testcontainers');

const HTTPD = ['sh', '-c', 'mkdir -p /www && echo served > /www/index.html && echo "httpd up" && exec httpd -f -v -p 8080 -h /www'];

describe('Testcontainers against hakod', () => {
  let d: Hakod;
  let tc: TC;
  const work = mkdtempSync(join(tmpdir(), 'hako-sdk-tc-'));
  before(async () => {
    d = await startHakod();
    // Testcontainers reads its configuration from the environment when it first needs a client.
    process.env.DOCKER_HOST = d.host;
    process.env.DOCKER_CONFIG = d.env.DOCKER_CONFIG;
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
    process.env.HOME = work; // no ~/.testcontainers.properties of the user's
    tc = await import('testcontainers');
  });
  after(async () => {
    try { await d?.stop(); } finally { rmSync(work, { recursive: true, force: true }); }
  });

  async function get(port: number, path = '/'): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    assert.equal(res.status, 200);
    return res.text();
  }

  it('a GenericContainer waited for by listening ports is reached on its mapped port', async () => {
    const c = await new tc.GenericContainer('busybox').withCommand(HTTPD).withExposedPorts(8080)
      .withWaitStrategy(tc.Wait.forListeningPorts()).start();
    try {
      // "localhost", or the bridge's gateway when /.dockerenv says the tests run in a container.
      const res = await fetch(`http://${c.getHost()}:${c.getMappedPort(8080)}/`);
      assert.equal(await res.text(), 'served\n');
      assert.equal(await get(c.getMappedPort(8080)), 'served\n');
    } finally {
      await c.stop();
    }
  });

  it('waits for a log message and for an HTTP answer, then exec, copies, logs and stop work', async () => {
    const file = join(work, 'copied.txt');
    writeFileSync(file, 'a copied file\n');
    const c = await new tc.GenericContainer('busybox').withCommand(HTTPD).withExposedPorts(8080)
      .withEnvironment({ WHO: 'testcontainers' }).withLabels({ sdk: 'testcontainers' })
      .withWaitStrategy(tc.Wait.forAll([tc.Wait.forLogMessage('httpd up'), tc.Wait.forHttp('/', 8080).forStatusCode(200)]))
      .start();
    let stopped = false;
    try {
      const r = await c.exec(['sh', '-c', 'echo "$WHO"; echo oops >&2; exit 2']);
      assert.equal(r.exitCode, 2);
      assert.equal(r.stdout, 'testcontainers\n');
      assert.equal(r.stderr, 'oops\n');
      await c.copyContentToContainer([{ content: 'content here\n', target: '/www/content.txt' }]);
      await c.copyFilesToContainer([{ source: file, target: '/www/copied.txt' }]);
      assert.equal(await get(c.getMappedPort(8080), '/content.txt'), 'content here\n');
      assert.equal(await get(c.getMappedPort(8080), '/copied.txt'), 'a copied file\n');
      const archive = await c.copyArchiveFromContainer('/www/content.txt');
      const chunks: Buffer[] = [];
      for await (const b of archive) chunks.push(b as Buffer);
      assert.match(Buffer.concat(chunks).toString('latin1'), /content here\n/);
      const logs = await c.logs();
      const text = await new Promise<string>((resolve, reject) => {
        let s = '';
        logs.on('data', (b: Buffer | string) => { s += b.toString(); if (s.includes('httpd up')) { logs.destroy(); resolve(s); } });
        logs.on('error', reject);
      });
      assert.match(text, /httpd up/);
      const res = await c.stop({ timeout: 2_000 });
      stopped = true;
      assert.equal(typeof res.getId(), 'string');
      const inspected = await d.api('GET', `/containers/${c.getId()}/json`);
      assert.equal(inspected.status, 404, 'stop() removes the container');
    } finally {
      if (!stopped) await c.stop();
    }
  });

  it('an image built fromDockerfile starts healthy with content copied before start, and restarts', async () => {
    const ctx = join(work, 'ctx');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nARG GREETING\nRUN mkdir /www && echo "$GREETING" > /www/index.html\nCMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n');
    const image = await tc.GenericContainer.fromDockerfile(ctx).withBuildArgs({ GREETING: 'built here' }).build('tc-built:1', { deleteOnExit: false });
    const c = await image.withExposedPorts(8080)
      .withCopyContentToContainer([{ content: 'copied early\n', target: '/www/early.txt' }])
      .withHealthCheck({ test: ['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1'], interval: 200, timeout: 1_000, retries: 20, startPeriod: 0 })
      .withWaitStrategy(tc.Wait.forHealthCheck()).start();
    try {
      assert.equal(await get(c.getMappedPort(8080)), 'built here\n');
      assert.equal(await get(c.getMappedPort(8080), '/early.txt'), 'copied early\n');
      await c.restart();
      assert.equal(await get(c.getMappedPort(8080), '/early.txt'), 'copied early\n');
    } finally {
      await c.stop();
    }
  });

  it('container options (user, workdir, tmpfs, bind mount, extra hosts, ulimits, name) reach the container', async () => {
    const bound = join(work, 'bound');
    mkdirSync(join(bound, 'sub'), { recursive: true });
    writeFileSync(join(bound, 'a.txt'), 'f1\n');
    writeFileSync(join(bound, 'sub', 'b.txt'), 'f2\n');
    const c = await new tc.GenericContainer('busybox').withCommand(['sleep', '60'])
      .withUser('nobody').withWorkingDir('/tmp').withTmpFs({ '/scratch': 'rw,size=1m' })
      .withBindMounts([{ source: bound, target: '/bound', mode: 'ro' }])
      .withExtraHosts([{ host: 'foo.local', ipAddress: '10.1.2.3' }]).withUlimits({ nofile: { hard: 1024, soft: 1024 } })
      .withName('tc-named').withCopyDirectoriesToContainer([{ source: bound, target: '/copied' }])
      .withWaitStrategy(tc.Wait.forSuccessfulCommand('test -d /scratch')).start();
    try {
      const out = async (cmd: string[]) => (await c.exec(cmd)).output;
      assert.equal(await out(['sh', '-c', 'id -un; pwd; cat /bound/a.txt /copied/sub/b.txt; ulimit -n']), 'nobody\n/tmp\nf1\nf2\n1024\n');
      assert.match(await out(['cat', '/etc/hosts']), /^10\.1\.2\.3\tfoo\.local$/m);
      assert.equal((await c.exec(['touch', '/bound/x'], { user: '0' })).exitCode, 1, 'the bind mount is read-only, even for root');
      const r = await c.exec(['sh', '-c', 'echo $FOO; pwd; id -u'], { env: { FOO: 'bar' }, workingDir: '/etc', user: '0' });
      assert.equal(r.stdout, 'bar\n/etc\n0\n');
      assert.equal(c.getName(), '/tc-named');
    } finally {
      await c.stop();
    }
  });

  it('withReuse finds the running container again by its hash label', async () => {
    process.env.TESTCONTAINERS_REUSE_ENABLE = 'true';
    try {
      const a = await new tc.GenericContainer('busybox').withCommand(['sleep', '61']).withReuse().start();
      const b = await new tc.GenericContainer('busybox').withCommand(['sleep', '61']).withReuse().start();
      assert.equal(b.getId(), a.getId());
      await a.stop();
    } finally {
      delete process.env.TESTCONTAINERS_REUSE_ENABLE;
    }
  });

  it('a DockerComposeEnvironment comes up through the docker CLI and hako\'s compose plugin, and goes down', async () => {
    // Testcontainers runs `docker compose`: the docker CLI finds bin/docker-compose-plugin in
    // $DOCKER_CONFIG/cli-plugins, as a user's installation would.
    const plugins = join(d.env.DOCKER_CONFIG as string, 'cli-plugins');
    mkdirSync(plugins, { recursive: true });
    symlinkSync(join(REPO_ROOT, 'bin/docker-compose-plugin'), join(plugins, 'docker-compose'));
    const project = join(work, 'compose');
    mkdirSync(project);
    writeFileSync(join(project, 'compose.yaml'), [
      'services:',
      '  web:',
      '    image: busybox',
      '    command: ["sh", "-c", "echo web up; exec httpd -f -p 8080 -h /etc"]',
      '    ports: ["8080"]',
      '  probe:',
      '    image: busybox',
      '    command: ["sleep", "60"]',
      '',
    ].join('\n'));
    const env = await new tc.DockerComposeEnvironment(project, 'compose.yaml').withProjectName('tcproj')
      .withWaitStrategy('web-1', tc.Wait.forLogMessage('web up')).up();
    try {
      const web = env.getContainer('web-1');
      assert.equal((await get(web.getMappedPort(8080), '/hostname')).trim(), web.getId().slice(0, 12));
      const probe = env.getContainer('probe-1');
      const r = await probe.exec(['wget', '-q', '-O', '-', 'http://web:8080/hostname']);
      assert.equal(r.output.trim(), web.getId().slice(0, 12));
    } finally {
      await env.down();
    }
    const left = await d.api('GET', '/containers/json?all=1&filters=' + encodeURIComponent(JSON.stringify({ label: ['com.docker.compose.project=tcproj'] })));
    assert.deepEqual(left.body, []);
  });

  it('containers on a Network reach each other by alias', async () => {
    const net = await new tc.Network().start();
    const server = await new tc.GenericContainer('busybox').withCommand(HTTPD).withNetwork(net)
      .withNetworkAliases('web').withWaitStrategy(tc.Wait.forLogMessage('httpd up')).start();
    try {
      const client = await new tc.GenericContainer('busybox').withCommand(['wget', '-q', '-O', '-', 'http://web:8080/'])
        .withNetwork(net).withWaitStrategy(tc.Wait.forOneShotStartup()).start();
      const logs = await client.logs();
      const chunks: string[] = [];
      await new Promise<void>((resolve, reject) => {
        logs.on('data', (b: Buffer | string) => chunks.push(b.toString()));
        logs.on('end', () => resolve());
        logs.on('error', reject);
      });
      assert.equal(chunks.join(''), 'served\n');
      await client.stop();
      assert.equal(server.getIpAddress(net.getName()).split('.').length, 4);
    } finally {
      await server.stop();
      await net.stop();
    }
  });
});

