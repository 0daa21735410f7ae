/**
 * Convergence against a real hakod, with Projects built in the test (the loader is tested on its
 * own): a web service built from a Dockerfile FROM busybox serving on a published port, a client
 * reaching it by service name once it is healthy, re-running `up` (nothing recreated, then only
 * what changed), stop/start/restart, `down -v` leaving nothing, failing dependency conditions.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from '../../../src/client/index.js';
import { down, projectContainers, restart, start, stop, up, type ComposeContext, type Project } from '../../../src/compose/index.js';
import { startHakod, type Hakod } from '../../support/hakod.js';
import { project, service } from '../../support/compose-project.js';

let h: Hakod;
let client: Client;
let dir: string;
const projects: Project[] = [];

before(async () => {
  h = await startHakod();
  client = createClient({ host: h.host });
  dir = mkdtempSync(join(tmpdir(), 'hako-compose-'));
  writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox:latest\nRUN mkdir -p /www && echo hello-from-web > /www/index.html\nCMD ["httpd", "-f", "-p", "8000", "-h", "/www"]\n');
});

after(async () => {
  for (const p of projects) await down(context(p).ctx, { volumes: true, removeOrphans: true, timeout: 0 }).catch(() => undefined);
  client?.close();
  await h?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function context(p: Project): { ctx: ComposeContext; events: string[]; warnings: string[] } {
  const events: string[] = [];
  const warnings: string[] = [];
  return {
    events, warnings,
    ctx: { client, project: p, hostEnv: {}, progress: { event: (id, status) => events.push(`${id}  ${status}`), warn: (m) => warnings.push(m), buildOutput: () => undefined } },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

async function logsOf(id: string): Promise<string> {
  const res = await client.containerLogs(id, { follow: false });
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  // Multiplexed frames: the text is readable enough to search in.
  return Buffer.concat(chunks).toString('latin1');
}

async function webProject(port: number, clientEnv: Record<string, string>): Promise<Project> {
  const web = service('web', {
    image: 'hkc-web', build: { context: dir, dockerfile: 'Dockerfile', dockerfileInline: null, args: {}, target: null, labels: {}, noCache: false, pull: false, network: null, extraHosts: [], shmSize: null, tags: [], cacheFrom: [] },
    ports: [{ target: 8000, published: String(port), hostIp: '127.0.0.1', protocol: 'tcp' }],
    healthcheck: { test: ['CMD', 'wget', '-q', '--spider', 'http://127.0.0.1:8000/'], interval: 200e6, timeout: 2e9, startPeriod: null, startInterval: null, retries: 20, disable: false },
    stopGracePeriod: 1,
  });
  const cl = service('client', {
    command: ['sh', '-c', 'timeout 5 wget -qO- http://web:8000/ && echo "GREETING=$GREETING" && exec sleep 3600'],
    environment: clientEnv,
    dependsOn: { web: { condition: 'service_healthy', required: true, restart: false } },
    volumes: [{ type: 'volume', source: 'data', target: '/data', readOnly: false, createHostPath: false, bindPropagation: null, volumeNocopy: false, tmpfsSize: null }],
    stopGracePeriod: 1,
  });
  const p = project('hkc', [web, cl], { volumes: { data: { name: 'hkc_data', driver: 'local', driverOpts: {}, external: false, labels: {} } } });
  projects.push(p);
  return p;
}

test('up builds, creates and starts in dependency order; the client reaches web by name; the port answers on 127.0.0.1', async () => {
  const port = await freePort();
  const { ctx, events } = context(await webProject(port, { GREETING: 'one' }));
  await up(ctx, { timeout: 1 });
  assert.deepEqual(events.filter((e) => !e.startsWith('Service ')), [
    'Network hkc_default  Creating', 'Network hkc_default  Created',
    'Volume "hkc_data"  Creating', 'Volume "hkc_data"  Created',
    'Container hkc-web-1  Creating', 'Container hkc-web-1  Created',
    'Container hkc-client-1  Creating', 'Container hkc-client-1  Created',
    'Container hkc-web-1  Starting', 'Container hkc-web-1  Started',
    'Container hkc-web-1  Waiting', 'Container hkc-web-1  Healthy',
    'Container hkc-client-1  Starting', 'Container hkc-client-1  Started',
  ]);
  assert.equal(await httpGet(port), 'hello-from-web\n');
  const [cl] = await projectContainers(client, 'hkc', { services: ['client'] });
  assert.ok(cl);
  let logs = '';
  for (let i = 0; i < 100 && !logs.includes('GREETING=one'); i++) {
    logs = await logsOf(cl.Id);
    if (!logs.includes('GREETING=one')) await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(logs, /hello-from-web/);
  assert.match(logs, /GREETING=one/);
  assert.equal(cl.Labels?.['com.docker.compose.project'], 'hkc');
  assert.equal(cl.Labels?.['com.docker.compose.service'], 'client');
  assert.equal(cl.Labels?.['com.docker.compose.container-number'], '1');
  assert.equal(cl.Labels?.['com.docker.compose.oneoff'], 'False');

  // The same project again: nothing recreated.
  const before = (await projectContainers(client, 'hkc')).map((c) => c.Id).sort();
  const again = context(ctx.project);
  await up(again.ctx, { timeout: 1 });
  // As compose's: dependencies' conditions are checked again even when their dependents run.
  assert.deepEqual(again.events, ['Container hkc-web-1  Running', 'Container hkc-client-1  Running', 'Container hkc-web-1  Waiting', 'Container hkc-web-1  Healthy']);
  assert.deepEqual((await projectContainers(client, 'hkc')).map((c) => c.Id).sort(), before);

  // A changed environment recreates that service only.
  const changed = await webProject(port, { GREETING: 'two' });
  const third = context(changed);
  await up(third.ctx, { timeout: 1 });
  assert.ok(third.events.includes('Container hkc-client-1  Recreate'), third.events.join('\n'));
  assert.ok(third.events.includes('Container hkc-client-1  Recreated'));
  assert.ok(third.events.includes('Container hkc-web-1  Running'));
  const [web2] = await projectContainers(client, 'hkc', { services: ['web'] });
  const [cl2] = await projectContainers(client, 'hkc', { services: ['client'] });
  assert.equal(web2?.Id, before.find((id) => id === web2?.Id), 'web kept its container');
  assert.ok(cl2 && !before.includes(cl2.Id), 'client got a new container');
  assert.equal(cl2.Names[0], '/hkc-client-1');

  // stop, start, restart
  await stop(third.ctx, [], 1);
  assert.deepEqual((await projectContainers(client, 'hkc')).map((c) => c.State), ['exited', 'exited']);
  await start(third.ctx);
  assert.deepEqual((await projectContainers(client, 'hkc')).map((c) => c.State), ['running', 'running']);
  await restart(third.ctx, ['web'], 1);
  assert.equal((await projectContainers(client, 'hkc', { services: ['web'] }))[0]?.State, 'running');
  assert.equal(await httpGet(port).catch(() => 'retry'), 'hello-from-web\n');

  // down -v: no container, network or volume left.
  const last = context(changed);
  await down(last.ctx, { volumes: true, timeout: 1 });
  assert.deepEqual(await projectContainers(client, 'hkc'), []);
  await assert.rejects(client.networkInspect('hkc_default'), (e: { status?: number }) => e.status === 404);
  await assert.rejects(client.volumeInspect('hkc_data'), (e: { status?: number }) => e.status === 404);
  assert.ok(last.events.includes('Network hkc_default  Removed'));
  assert.ok(last.events.includes('Volume hkc_data  Removed'));
});

test('a dependency that does not complete successfully fails up with compose\'s message, and so does an unhealthy one', async () => {
  const once = service('migrate', { command: ['sh', '-c', 'exit 3'] });
  const app = service('app', { command: ['sleep', '60'], dependsOn: { migrate: { condition: 'service_completed_successfully', required: true, restart: false } } });
  const p = project('hkf', [once, app]);
  projects.push(p);
  const { ctx, events } = context(p);
  await assert.rejects(up(ctx, { timeout: 0 }), /service "migrate" didn't complete successfully: exit 3/);
  assert.ok(events.includes('Container hkf-migrate-1  Error'));
  assert.equal((await projectContainers(client, 'hkf', { services: ['app'] }))[0]?.State, 'created', 'app was not started');

  const sick = service('db', { command: ['sleep', '60'], stopGracePeriod: 0, healthcheck: { test: ['CMD', 'false'], interval: 100e6, timeout: 1e9, startPeriod: null, startInterval: null, retries: 1, disable: false } });
  const user = service('api', { command: ['sleep', '60'], dependsOn: { db: { condition: 'service_healthy', required: true, restart: false } } });
  const q = project('hku', [sick, user]);
  projects.push(q);
  await assert.rejects(up(context(q).ctx, { timeout: 0 }), /dependency failed to start: container hku-db-1 is unhealthy/);
  await down(context(q).ctx, { timeout: 0 });
  await down(context(p).ctx, { timeout: 0 });
  assert.deepEqual(await projectContainers(client, 'hkf'), []);
});

test('scale up and down, --force-recreate, --no-recreate, and orphans warned then removed', async () => {
  const anon = { type: 'volume' as const, source: null, target: '/data', readOnly: false, createHostPath: false, bindPropagation: null, volumeNocopy: false, tmpfsSize: null };
  const sleeper = (over: Parameters<typeof service>[1] = {}) => service('worker', { command: ['sleep', '600'], stopGracePeriod: 0, volumes: [anon], ...over });
  const p = project('hks', [sleeper({ scale: 3 }), service('extra', { command: ['sleep', '600'], stopGracePeriod: 0 })]);
  projects.push(p);
  await up(context(p).ctx, { timeout: 0 });
  const names = async (svc?: string) => (await projectContainers(client, 'hks', svc ? { services: [svc] } : {})).map((c) => c.Names[0]);
  assert.deepEqual(await names('worker'), ['/hks-worker-1', '/hks-worker-2', '/hks-worker-3']);

  const down1 = project('hks', [sleeper({ scale: 1 }), service('extra', { command: ['sleep', '600'], stopGracePeriod: 0 })]);
  const scaled = context(down1);
  await up(scaled.ctx, { timeout: 0 });
  assert.deepEqual(await names('worker'), ['/hks-worker-1']);
  assert.ok(scaled.events.includes('Container hks-worker-3  Removed'));

  const ids = async () => (await projectContainers(client, 'hks')).map((c) => c.Id).sort();
  const before = await ids();
  assert.equal((await h.docker(['exec', 'hks-worker-1', 'sh', '-c', 'echo kept > /data/f'])).code, 0);
  const forced = context(down1);
  await up(forced.ctx, { recreate: 'force', timeout: 0 });
  assert.ok(forced.events.includes('Container hks-worker-1  Recreated'));
  // The anonymous volume went over to the new container, as compose's recreate does.
  assert.equal((await h.docker(['exec', 'hks-worker-1', 'cat', '/data/f'])).stdout, 'kept\n');
  const after1 = await ids();
  assert.equal(after1.filter((id) => before.includes(id)).length, 0, 'every container is new');

  // A changed command with --no-recreate keeps the containers.
  const changed = project('hks', [sleeper({ scale: 1, command: ['sleep', '601'] }), service('extra', { command: ['sleep', '600'], stopGracePeriod: 0 })]);
  await up(context(changed).ctx, { recreate: 'never', timeout: 0 });
  assert.deepEqual(await ids(), after1);

  // `extra` gone from the project: an orphan, warned about, then removed with removeOrphans.
  const without = project('hks', [sleeper({ scale: 1 })]);
  const warned = context(without);
  await up(warned.ctx, { recreate: 'never', timeout: 0 });
  assert.deepEqual(warned.warnings, ['Found orphan containers ([hks-extra-1]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.']);
  await up(context(without).ctx, { recreate: 'never', removeOrphans: true, timeout: 0 });
  assert.deepEqual(await names(), ['/hks-worker-1']);
  await down(context(without).ctx, { timeout: 0 });
  assert.deepEqual(await names(), []);
});

test('a service on two networks is connected to both with its aliases; wait; pull_policy never refuses a missing image', async () => {
  const net = (priority: number, aliases: string[] = []) => ({ aliases, ipv4Address: null, ipv6Address: null, macAddress: null, priority });
  const api = service('api', { command: ['sleep', '600'], stopGracePeriod: 0, networks: { front: net(0), back: net(5, ['api.internal']) } });
  const db = service('db', {
    command: ['sh', '-c', 'for i in $(seq 50); do nslookup api.internal >/dev/null 2>&1 && echo found && exec sleep 600; sleep 0.1; done; echo missing'],
    stopGracePeriod: 0, networks: { back: net(0) },
  });
  const p = project('hkn', [api, db], { networks: { front: { ...project('x', []).networks.default!, name: 'hkn_front' }, back: { ...project('x', []).networks.default!, name: 'hkn_back' } } });
  projects.push(p);
  await up(context(p).ctx, { timeout: 0, wait: true });
  const [a] = await projectContainers(client, 'hkn', { services: ['api'] });
  const info = await client.containerInspect(a!.Id) as unknown as { NetworkSettings: { Networks: Record<string, { Aliases: string[] | null }> } };
  assert.deepEqual(Object.keys(info.NetworkSettings.Networks).sort(), ['hkn_back', 'hkn_front']);
  assert.ok(info.NetworkSettings.Networks.hkn_back?.Aliases?.includes('api.internal'));
  assert.ok(info.NetworkSettings.Networks.hkn_front?.Aliases?.includes('api'));
  const [d] = await projectContainers(client, 'hkn', { services: ['db'] });
  let logs = '';
  for (let i = 0; i < 100 && !/found|missing/.test(logs); i++) {
    logs = await logsOf(d!.Id);
    if (!/found|missing/.test(logs)) await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(logs, /found/);
  await down(context(p).ctx, { timeout: 0 });
  await assert.rejects(client.networkInspect('hkn_back'), (e: { status?: number }) => e.status === 404);

  const never = project('hkp', [service('app', { image: 'hako-test-absent:1', pullPolicy: 'never' })]);
  projects.push(never);
  await assert.rejects(up(context(never).ctx, {}), /No such image: hako-test-absent:1/);
});
