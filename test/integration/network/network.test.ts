import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { createSocket } from 'node:dgram';
import { startTestEngine, collect, runToExit, type TestEngine } from '../../support/engine.js';
import type { Json } from '../../../src/engine/index.js';
import { networkConfigOf } from '../../../src/network/index.js';
import { existsSync, readdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let t: TestEngine;
/** A /24 per test network out of 10.213.0.0/16, picked at random so parallel runs do not clash. */
const base = 1 + Math.floor(Math.random() * 200);
const subnet = (i: number) => `10.213.${base + i}.0/24`;
const made: string[] = [];

before(async () => {
  t = await startTestEngine();
});
after(async () => {
  const links = () => execFileSync('ip', ['-o', 'link']).toString();
  const bridges = (await t.engine.networks.list()).map((n) => (n.Options as Record<string, string>)['com.docker.network.bridge.name']).filter(Boolean);
  const ids = made.slice();
  await t?.close();
  // Nothing of this engine is left in the kernel: no bridge, no veth, no table.
  for (const id of ids) assert.doesNotMatch(links(), new RegExp(`br-${id.slice(0, 12)}`));
  for (const b of bridges) assert.doesNotMatch(links(), new RegExp(`\\b${b}\\b`));
  const table = networkConfigOf(undefined, t.dataRoot).table;
  assert.doesNotMatch(execFileSync('nft', ['list', 'tables']).toString(), new RegExp(`\\b${table}\\b`));
  assert.equal(existsSync(join(t.execRoot, 'netns')) ? readdirSync(join(t.execRoot, 'netns')).length : 0, 0);
});

async function network(name: string, i: number, extra: Json = {}): Promise<string> {
  const { Id } = await t.engine.networks.create({ Name: name, IPAM: { Config: [{ Subnet: subnet(i) }] }, ...extra });
  made.push(Id);
  return Id;
}

/** Runs a command in a new container to its end; its output and exit code. */
async function run(cmd: string, hostConfig: Json = {}, extra: Json = {}): Promise<{ code: number; out: string }> {
  // Names the embedded DNS does not know go to 127.0.0.1, never to the host's real resolvers.
  const r = await runToExit(t, { Cmd: ['sh', '-c', cmd], HostConfig: { Dns: ['127.0.0.1'], ...hostConfig }, ...extra });
  return { code: r.code, out: r.stdout + r.stderr };
}

async function daemon(name: string, cmd: string, hostConfig: Json = {}, extra: Json = {}): Promise<{ id: string; ip: (net: string) => string }> {
  const c = t.engine.containers;
  const { Id } = await c.create({ Image: 'busybox', Cmd: ['sh', '-c', cmd], HostConfig: { Dns: ['127.0.0.1'], ...hostConfig }, ...extra }, { name });
  await c.start(Id);
  const info = await c.inspect(Id);
  const nets = (info.NetworkSettings as { Networks: Record<string, { IPAddress: string }> }).Networks;
  return { id: Id, ip: (net) => nets[net]?.IPAddress ?? '' };
}

test('containers on a user network find each other by name and alias; the default bridge has no names', async () => {
  await network('n-dns', 0);
  const web = await daemon('web-dns', 'sleep 60', { NetworkMode: 'n-dns' }, { NetworkingConfig: { EndpointsConfig: { 'n-dns': { Aliases: ['frontend'] } } } });
  assert.match(web.ip('n-dns'), new RegExp(`^10\\.213\\.${base}\\.\\d+$`));
  const r = await run('nslookup web-dns; nslookup frontend; ping -c1 -W2 frontend', { NetworkMode: 'n-dns' });
  assert.equal(r.code, 0, r.out);
  assert.equal(r.out.split(web.ip('n-dns')).length - 1 >= 3, true, r.out);
  // On the default bridge resolv.conf keeps the host's (here: --dns 127.0.0.1, so nothing leaves the host).
  const onBridge = await run('cat /etc/resolv.conf; nslookup web-dns', { Dns: ['127.0.0.1'] });
  assert.notEqual(onBridge.code, 0, onBridge.out);
  assert.match(onBridge.out, /^nameserver 127\.0\.0\.1$/m);
});

test('three containers sharing an alias are answered in rotating order', async () => {
  await network('n-rr', 1);
  const ips: string[] = [];
  for (let i = 0; i < 3; i++) {
    const d = await daemon(`rr-${i}`, 'sleep 60', { NetworkMode: 'n-rr' }, { NetworkingConfig: { EndpointsConfig: { 'n-rr': { Aliases: ['pool'] } } } });
    ips.push(d.ip('n-rr'));
  }
  const r = await run('for i in 1 2 3; do nslookup pool | grep -A9 "^Name" | grep Address | head -n1; done', { NetworkMode: 'n-rr' });
  assert.equal(r.code, 0, r.out);
  const firsts = r.out.trim().split('\n').map((l) => l.replace(/.*Address(?: \d+)?:\s*/, '').trim());
  assert.deepEqual([...firsts].sort(), [...ips].sort(), r.out);
});

test('two user networks are isolated; connect and disconnect change what a running container reaches', async () => {
  await network('n-a', 2);
  await network('n-b', 3);
  const target = await daemon('iso-target', 'httpd -f -p 80 -h /etc', { NetworkMode: 'n-b' });
  const probe = await daemon('iso-probe', 'sleep 60', { NetworkMode: 'n-a' });
  const reach = async () => {
    // busybox's static wget crashes in getaddrinfo; nc speaks HTTP well enough.
    const cmd = `printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${target.ip('n-b')} 80`;
    const s = await t.engine.exec.create(probe.id, { Cmd: ['sh', '-c', cmd], AttachStdout: true, AttachStderr: true });
    const session = await t.engine.exec.start(s.Id, {});
    const { stdout } = await collect(session!.output);
    return /200 OK/.test(stdout);
  };
  assert.equal(await reach(), false, 'n-a reached n-b');
  await t.engine.networks.connect('n-b', { Container: 'iso-probe' });
  assert.equal(await reach(), true, 'connected, but n-b not reachable');
  await t.engine.networks.disconnect('n-b', { Container: 'iso-probe' });
  assert.equal(await reach(), false, 'disconnected, but n-b still reachable');
});

test('an internal network has no route out and refuses published ports', async () => {
  await network('n-int', 4, { Internal: true });
  const out = await network('n-out', 9);
  // Outbound NAT is proven by the rule, not by reaching the internet: the routed network masquerades, the internal one does not.
  const rules = execFileSync('nft', ['list', 'table', 'inet', networkConfigOf(undefined, t.dataRoot).table]).toString();
  assert.match(rules, new RegExp(`ip saddr ${subnet(9).replace(/\./g, '\\.')} oifname != "br-${out.slice(0, 12)}" masquerade`));
  assert.doesNotMatch(rules, new RegExp(`ip saddr ${subnet(4).replace(/\./g, '\\.')} oifname != "[^"]+" masquerade`));
  const r = await run('ip route; ping -c1 -W1 192.0.2.1', { NetworkMode: 'n-int' });
  assert.doesNotMatch(r.out, /default/);
  assert.notEqual(r.code, 0);
  const c = t.engine.containers;
  const { Id } = await c.create({ Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'n-int', PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } } }, {});
  await assert.rejects(c.start(Id), /internal/);
  await c.remove(Id, {});
});

/** A static UDP echo server (busybox has none), built once into a temp dir that is mounted in. */
function udpEcho(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hako-udpecho-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'udpecho.c'), `#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
int main(int argc, char **argv) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])) };
  if (bind(s, (struct sockaddr *)&a, sizeof a)) return 1;
  for (;;) {
    char buf[512]; struct sockaddr_in from; socklen_t fl = sizeof from;
    ssize_t n = recvfrom(s, buf, sizeof buf - 8, 0, (struct sockaddr *)&from, &fl);
    if (n < 0) continue;
    memcpy(buf + n, "udp-ok\\n", 7);
    sendto(s, buf, n + 7, 0, (struct sockaddr *)&from, fl);
  }
}
`);
  execFileSync('gcc', ['-static', '-O2', '-o', join(dir, 'udpecho'), join(dir, 'udpecho.c')]);
  return dir;
}

function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body));
    });
    req.on('error', reject).on('timeout', () => req.destroy(new Error('timeout'))).end();
  });
}

test('a published port answers on 127.0.0.1, over TCP and UDP, and a taken port fails the start', async () => {
  await network('n-pub', 5);
  const web = await daemon('pub-web', 'echo hello-from-httpd > /tmp/index.html; httpd -p 80 -h /tmp; exec /probe/udpecho 53', {
    Binds: [`${udpEcho()}:/probe:ro`],
    NetworkMode: 'n-pub', PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }], '53/udp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
  });
  const info = await t.engine.containers.inspect(web.id);
  const ports = (info.NetworkSettings as { Ports: Record<string, Array<{ HostPort: string; HostIp: string }>> }).Ports;
  const tcpPort = Number(ports['80/tcp']![0]!.HostPort);
  assert.equal(ports['80/tcp']![0]!.HostIp, '127.0.0.1');
  let body = '';
  for (let i = 0; i < 20 && !body; i++) body = await get(tcpPort, '/index.html').catch(() => new Promise<string>((r) => setTimeout(() => r(''), 100)));
  assert.equal(body, 'hello-from-httpd\n');
  const udpPort = Number(ports['53/udp']![0]!.HostPort);
  const reply = await new Promise<string>((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setInterval(() => s.send('x\n', udpPort, '127.0.0.1'), 200);
    s.on('message', (m) => { clearInterval(timer); clearTimeout(limit); s.close(); resolve(m.toString()); });
    const limit = setTimeout(() => { clearInterval(timer); s.close(); reject(new Error('no UDP reply')); }, 5000);
    s.on('close', () => clearTimeout(limit));
    s.send('x\n', udpPort, '127.0.0.1');
  });
  assert.match(reply, /udp-ok/);
  const rows = await t.engine.containers.list({ filters: { name: ['pub-web'] } });
  assert.deepEqual((rows[0]!.Ports as Json[]).find((p) => p.Type === 'tcp'), { IP: '127.0.0.1', PrivatePort: 80, PublicPort: tcpPort, Type: 'tcp' });
  const c = t.engine.containers;
  const { Id } = await c.create({ Image: 'busybox', Cmd: ['sleep', '9'], HostConfig: { NetworkMode: 'n-pub', PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(tcpPort) }] } } }, {});
  await assert.rejects(c.start(Id), new RegExp(`port ${tcpPort}/tcp is already published by container pub-web`));
  await c.remove(Id, {});
});

test('containers started all at once each get their own namespace and reach their gateway', async () => {
  // Namespaces are made in-process while other containers' veths are being set up: a veth's host
  // side must never land in a namespace made meanwhile (each run pings its gateway to prove it).
  for (let round = 0; round < 3; round++) {
    const runs = await Promise.all(Array.from({ length: 6 }, () => run('ping -c1 -W2 $(ip route | sed -n "s/^default via \\([0-9.]*\\).*/\\1/p")')));
    for (const r of runs) assert.equal(r.code, 0, r.out);
  }
});

test('bad input fails clearly and leaves nothing half-made', async () => {
  const n = t.engine.networks;
  await network('n-bad', 6);
  await assert.rejects(n.create({ Name: 'n-bad2', IPAM: { Config: [{ Subnet: subnet(6) }] } }), /overlaps with network n-bad/);
  await assert.rejects(n.create({ Name: 'n-bad3', IPAM: { Config: [{ Subnet: subnet(7), Gateway: `10.213.${base + 8}.1` }] } }), /not a host address of subnet/);
  await assert.rejects(t.engine.containers.create({ Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'n-bad' }, NetworkingConfig: { EndpointsConfig: { 'n-bad': { IPAMConfig: { IPv4Address: '10.99.0.5' } } } } }, {}), /not in network n-bad's subnet/);
  const fixed = `10.213.${base + 6}.50`;
  const d = await daemon('bad-fixed', 'sleep 60', { NetworkMode: 'n-bad' }, { NetworkingConfig: { EndpointsConfig: { 'n-bad': { IPAMConfig: { IPv4Address: fixed } } } } });
  assert.equal(d.ip('n-bad'), fixed);
  const { Id } = await t.engine.containers.create({ Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'n-bad' }, NetworkingConfig: { EndpointsConfig: { 'n-bad': { IPAMConfig: { IPv4Address: fixed } } } } }, {});
  await assert.rejects(t.engine.containers.start(Id), /already in use on network n-bad/);
  await t.engine.containers.remove(Id, {});
  await assert.rejects(n.remove('n-bad'), /has active endpoints \(bad-fixed\)/);
  await assert.rejects(n.remove('bridge'), /pre-defined network/);
  assert.equal((await n.list({ name: ['n-bad'] })).length, 1);
});
