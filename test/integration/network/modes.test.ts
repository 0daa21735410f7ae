/**
 * Network modes other than a bridge (container:NAME, host, none), rename and DNS, network events,
 * prune of networks only stopped containers use, publishing with -P and port ranges.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { engineForFile, runToExit } from '../../support/engine.js';
import { httpGet } from '../../support/network-cli.js';
import type { Json } from '../../../src/engine/index.js';

const t = engineForFile();
const base = 1 + Math.floor(Math.random() * 200);
const subnet = (i: number) => `10.215.${base + i}.0/24`;

/** Runs a command in a new container to its end; its output and exit code. */
async function run(cmd: string, hostConfig: Json = {}, extra: Json = {}): Promise<{ code: number; out: string }> {
  // Names the embedded DNS does not know go to 127.0.0.1, never to the host's real resolvers.
  const r = await runToExit(t, { Cmd: ['sh', '-c', cmd], HostConfig: { Dns: ['127.0.0.1'], ...hostConfig }, ...extra });
  return { code: r.code, out: r.stdout + r.stderr };
}

async function daemon(name: string, cmd: string, hostConfig: Json = {}, extra: Json = {}): Promise<string> {
  const c = t.engine.containers;
  const { Id } = await c.create({ Image: 'busybox', Cmd: ['sh', '-c', cmd], HostConfig: { Dns: ['127.0.0.1'], ...hostConfig }, ...extra }, { name });
  await c.start(Id);
  return Id;
}

const ipOf = async (ref: string, net: string) =>
  ((await t.engine.containers.inspect(ref)).NetworkSettings as { Networks: Record<string, { IPAddress: string }> }).Networks[net]?.IPAddress ?? '';

test('--network container:NAME shares the other container\'s interfaces; host sees the host\'s; none has only lo', async () => {
  await daemon('owner', 'sleep 60');
  const ip = await ipOf('owner', 'bridge');
  assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
  const joined = await run('ip -4 -o addr', { NetworkMode: 'container:owner' });
  assert.match(joined.out, new RegExp(`inet ${ip.replace(/\./g, '\\.')}/`));
  const none = await run('ip -o link', { NetworkMode: 'none' });
  assert.deepEqual(none.out.trim().split('\n').map((l) => l.split(': ')[1]), ['lo']);
  // The host's own interface (the default route's, or the first non-lo one) is there in host mode only.
  const hostIf = /\bdev (\S+)/.exec(execFileSync('ip', ['route', 'show', 'default']).toString())?.[1]
    ?? execFileSync('ip', ['-o', 'link']).toString().split('\n').map((l) => l.split(': ')[1]).find((n) => n && n !== 'lo')!;
  const host = await run('ip -o link', { NetworkMode: 'host' });
  assert.match(host.out, new RegExp(`^\\d+: ${hostIf}[:@]`, 'm'), host.out);
  await assert.rejects(t.engine.containers.create({ Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'container:nope' } }, {}), /network mode container:nope: no such container: nope/);
  // Legacy links are refused with the way out, not dropped.
  await assert.rejects(t.engine.containers.create({ Image: 'busybox', Cmd: ['true'], HostConfig: { Links: ['owner:db'] } }, {}), /legacy container links are not supported by hako; put the containers on a user-defined network/);
  await t.engine.containers.remove('owner', { force: true });
});

test('restarting a container whose namespace another joined leaves one port of it on the bridge, not two', async () => {
  const owner = await daemon('owner2', 'sleep 60');
  const joiner = await daemon('joiner2', 'sleep 60', { NetworkMode: 'container:owner2' });
  const br = ((await t.engine.networks.inspect('bridge')).Options as Record<string, string>)['com.docker.network.bridge.name']!;
  const ports = () => execFileSync('ip', ['-o', 'link', 'show', 'master', br]).toString().trim().split('\n').filter(Boolean).length;
  const before = ports();
  await t.engine.containers.stop(owner, { timeout: 0 });
  await t.engine.containers.start(owner);
  assert.equal(ports(), before, 'the joined namespace kept the old veth on the bridge');
  await t.engine.containers.remove(joiner, { force: true });
  await t.engine.containers.remove(owner, { force: true });
});

test('rename: the embedded DNS answers the new name, not the old one', async () => {
  await t.engine.networks.create({ Name: 'n-ren', IPAM: { Config: [{ Subnet: subnet(0) }] } });
  await daemon('before-name', 'sleep 60', { NetworkMode: 'n-ren' });
  const ip = await ipOf('before-name', 'n-ren');
  await t.engine.containers.rename('before-name', 'after-name');
  const r = await run('nslookup after-name; nslookup before-name', { NetworkMode: 'n-ren' });
  assert.match(r.out, new RegExp(`Name:\\s+after-name[^]*Address:? (?:1: )?${ip.replace(/\./g, '\\.')}`), r.out);
  assert.match(r.out, /can't find before-name|can't resolve 'before-name'|NXDOMAIN|SERVFAIL/, r.out);
  await t.engine.containers.remove('after-name', { force: true });
  await t.engine.networks.remove('n-ren');
});

test('network events: create, connect, disconnect, destroy, with the network\'s name and the container', async () => {
  const seen: string[] = [];
  const off = t.engine.events.subscribe((ev) => {
    if (ev.Type === 'network') seen.push(`${ev.Action} ${ev.Actor.Attributes.name}${ev.Actor.Attributes.container ? ' c' : ''}`);
  });
  try {
    await t.engine.networks.create({ Name: 'n-ev', IPAM: { Config: [{ Subnet: subnet(1) }] } });
    const id = await daemon('ev-c', 'sleep 60');
    await t.engine.networks.connect('n-ev', { Container: id });
    await t.engine.networks.disconnect('n-ev', { Container: id });
    await t.engine.networks.remove('n-ev');
    await t.engine.containers.remove(id, { force: true });
  } finally {
    off();
  }
  assert.deepEqual(seen.filter((s) => s.includes('n-ev')), ['create n-ev', 'connect n-ev c', 'disconnect n-ev c', 'destroy n-ev']);
});

test('a start that fails before its network is set publishes neither connect nor disconnect; a run publishes both', async () => {
  const seen: string[] = [];
  const off = t.engine.events.subscribe((ev) => { if (ev.Type === 'network') seen.push(ev.Action); });
  try {
    const c = t.engine.containers;
    const { Id: bad } = await c.create({ Image: 'busybox', Cmd: ['/no/such/binary'] }, { name: 'ev-bad' });
    await assert.rejects(c.start(bad));
    await c.remove(bad, { force: true });
    assert.deepEqual(seen, []);
    const { Id: good } = await c.create({ Image: 'busybox', Cmd: ['true'] }, { name: 'ev-good' });
    const exited = c.wait(good, 'next-exit');
    await c.start(good);
    await exited;
    await c.remove(good, { force: true });
    assert.deepEqual(seen, ['connect', 'disconnect']);
  } finally {
    off();
  }
});

test('network prune takes networks only stopped containers use, as docker; their start then fails', async () => {
  await t.engine.networks.create({ Name: 'n-stale', IPAM: { Config: [{ Subnet: subnet(2) }] } });
  const c = t.engine.containers;
  const { Id } = await c.create({ Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'n-stale' } }, { name: 'stale-user' });
  const waited = c.wait(Id, 'next-exit');
  await c.start(Id);
  await waited;
  assert.deepEqual(await t.engine.networks.prune({}), { NetworksDeleted: ['n-stale'] });
  await assert.rejects(c.start(Id), /network n-stale not found/);
  await c.remove(Id, { force: true });
});

/** Two consecutive TCP ports free on 127.0.0.1. */
async function freePair(): Promise<number> {
  const bind = (p: number) => new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(p, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  for (;;) {
    const p = 20000 + Math.floor(Math.random() * 20000);
    if ((await bind(p)) && (await bind(p + 1))) return p;
  }
}

test('on the host network a container is named as the host, unless --hostname says otherwise', async () => {
  assert.equal((await run('hostname', { NetworkMode: 'host' })).out.trim(), hostname());
  assert.equal((await run('hostname', { NetworkMode: 'host' }, { Hostname: 'box7' })).out.trim(), 'box7');
  assert.match((await run('hostname')).out.trim(), /^[0-9a-f]{12}$/);
});

test('-P publishes the EXPOSEd ports on ephemeral host ports; a host port range gives the first free port of it', async () => {
  const lo = await freePair();
  const id = await daemon('ranged', 'mkdir /a /b; echo a > /a/i; echo b > /b/i; httpd -p 8000 -h /a; httpd -p 8001 -h /b; exec httpd -f -p 9000 -h /a', {
    PublishAllPorts: true, PortBindings: { '8000/tcp': [{ HostIp: '127.0.0.1', HostPort: `${lo}` }], '8001/tcp': [{ HostIp: '127.0.0.1', HostPort: `${lo}-${lo + 1}` }] },
  }, { ExposedPorts: { '9000/tcp': {} } });
  const ports = ((await t.engine.containers.inspect(id)).NetworkSettings as { Ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null> }).Ports;
  assert.deepEqual(ports['8000/tcp'], [{ HostIp: '127.0.0.1', HostPort: String(lo) }]);
  assert.deepEqual(ports['8001/tcp'], [{ HostIp: '127.0.0.1', HostPort: String(lo + 1) }]);
  const published = Number(ports['9000/tcp']![0]!.HostPort);
  assert.ok(published > 0 && ports['9000/tcp']![0]!.HostIp === '0.0.0.0', JSON.stringify(ports));
  assert.equal(await httpGet(lo, '/i'), 'a\n');
  assert.equal(await httpGet(lo + 1, '/i'), 'b\n');
  assert.equal(await httpGet(published, '/i'), 'a\n');
  await t.engine.containers.remove(id, { force: true });
});
