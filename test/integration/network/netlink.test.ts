// A container's interfaces, addresses, routes and bridge ports are made over rtnetlink from hakod
// (network/netlink.ts through the addon): what the user sees must be what `ip` made before.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { startTestEngine, collect, runToExit, type TestEngine } from '../../support/engine.js';
import type { Json } from '../../../src/engine/index.js';
import { tryNative } from '../../../src/native/index.js';
import { LinuxNetHost } from '../../../src/network/index.js';

let t: TestEngine;
const base = 1 + Math.floor(Math.random() * 250);
const subnet = (i: number) => `10.218.${(base + i) % 256}.0/24`;
const prefix = (i: number) => `10.218.${(base + i) % 256}.`;
/** Links this file made itself (a veth standing in for a bridge), deleted in after(). */
const madeLinks: string[] = [];

before(async () => {
  assert.ok(tryNative(), 'the native addon is built (scripts/build-native.sh)');
  t = await startTestEngine();
});
after(async () => {
  for (const l of madeLinks) {
    try { execFileSync('ip', ['link', 'del', l], { stdio: 'ignore' }); } catch { /* already gone */ }
  }
  await t?.close();
});

/** Runs a command in a new container to its end; its output and exit code. */
async function run(cmd: string, hostConfig: Json = {}): Promise<{ code: number; out: string }> {
  const r = await runToExit(t, { Cmd: ['sh', '-c', cmd], HostConfig: { Dns: ['127.0.0.1'], ...hostConfig } });
  return { code: r.code, out: r.stdout + r.stderr };
}

function bridgeOf(id: string): string {
  return `br-${id.slice(0, 12)}`;
}

/** One HTTP/1.0 GET to addr:port from the host; the whole answer. */
function httpGet(host: string, port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, timeout: 3000 });
    let body = '';
    s.on('connect', () => s.write(`GET ${path} HTTP/1.0\r\n\r\n`));
    s.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body));
    s.on('timeout', () => s.destroy(new Error(`no answer from ${host}:${port}`))).on('error', reject);
  });
}

test('a container on a bridge network with a published port: address, route, hairpin port, reachable from the host and by name', async () => {
  const { Id: netId } = await t.engine.networks.create({ Name: 'nl-web', IPAM: { Config: [{ Subnet: subnet(0) }] } });
  const c = t.engine.containers;
  const { Id } = await c.create({
    Image: 'busybox', Cmd: ['sh', '-c', 'echo nl-hello > /tmp/index.html; exec httpd -f -p 80 -h /tmp'],
    ExposedPorts: { '80/tcp': {} },
    HostConfig: { NetworkMode: 'nl-web', Dns: ['127.0.0.1'], PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
  }, { name: 'nl-web-1' });
  await c.start(Id);
  const info = await c.inspect(Id);
  const ep = (info.NetworkSettings as { Networks: Record<string, { IPAddress: string; MacAddress: string; Gateway: string; IPPrefixLen: number }> }).Networks['nl-web']!;
  assert.equal(ep.IPAddress, `${prefix(0)}2`);
  assert.equal(ep.Gateway, `${prefix(0)}1`);

  // Inside: the address with its prefix and MAC on eth0, lo up, the default route via the gateway.
  const probe = await t.engine.exec.create(Id, { Cmd: ['sh', '-c', 'ip addr show; ip route'], AttachStdout: true, AttachStderr: true });
  const { stdout: inside } = await collect((await t.engine.exec.start(probe.Id, {}))!.output);
  assert.match(inside, new RegExp(`inet ${prefix(0).replace(/\./g, '\\.')}2/24 .*eth0`), inside);
  assert.match(inside, new RegExp(`link/ether ${ep.MacAddress}`), inside);
  assert.match(inside, /lo: <LOOPBACK,UP,LOWER_UP>/, inside);
  assert.match(inside, /eth0@if\d+: <BROADCAST,MULTICAST,UP,LOWER_UP\b/, inside);
  assert.match(inside, new RegExp(`^default via ${prefix(0).replace(/\./g, '\\.')}1 dev eth0`, 'm'), inside);

  // Outside: the host end is the bridge's only port, up, with hairpin on (-p was given).
  const br = bridgeOf(netId);
  const ports = readdirSync(`/sys/class/net/${br}/brif`);
  assert.equal(ports.length, 1, ports.join(' '));
  const veth = ports[0]!;
  assert.match(veth, /^vh[0-9a-f]{10}$/);
  assert.equal(readFileSync(`/sys/class/net/${br}/brif/${veth}/hairpin_mode`, 'utf8').trim(), '1');
  const shown = execFileSync('bridge', ['-d', 'link', 'show', 'dev', veth]).toString();
  assert.match(shown, new RegExp(`master ${br} state forwarding`), shown);
  assert.match(shown, /hairpin on/, shown);

  // Reachable from the host on its address, through the published port, and by name from a neighbour.
  let body = '';
  for (let i = 0; i < 30 && !/nl-hello/.test(body); i++) body = await httpGet(ep.IPAddress, 80, '/index.html').catch(() => new Promise<string>((r) => setTimeout(() => r(''), 100)));
  assert.match(body, /200 OK[\s\S]*nl-hello/);
  const published = Number((info.NetworkSettings as { Ports: Record<string, Array<{ HostPort: string }>> }).Ports['80/tcp']![0]!.HostPort);
  assert.match(await httpGet('127.0.0.1', published, '/index.html'), /nl-hello/);
  const r = await run(`ping -c1 -W2 nl-web-1 && printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${ep.IPAddress} 80`, { NetworkMode: 'nl-web' });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, new RegExp(`PING nl-web-1 \\(${ep.IPAddress.replace(/\./g, '\\.')}\\)`), r.out);
  assert.match(r.out, /nl-hello/, r.out);
  // Without -p the port has no hairpin.
  const { Id: plain } = await c.create({ Image: 'busybox', Cmd: ['sleep', '30'], HostConfig: { NetworkMode: 'nl-web' } }, {});
  await c.start(plain);
  const plainPort = readdirSync(`/sys/class/net/${br}/brif`).filter((p) => p !== veth);
  assert.equal(plainPort.length, 1, plainPort.join(' '));
  assert.equal(readFileSync(`/sys/class/net/${br}/brif/${plainPort[0]}/hairpin_mode`, 'utf8').trim(), '0');
  await c.remove(plain, { force: true });

  // Connected to a second network while running: a second veth, eth1, its address, no second default route.
  await t.engine.networks.create({ Name: 'nl-second', IPAM: { Config: [{ Subnet: subnet(1) }] } });
  await t.engine.networks.connect('nl-second', { Container: 'nl-web-1' });
  const probe2 = await t.engine.exec.create(Id, { Cmd: ['sh', '-c', 'ip addr show eth1; ip route'], AttachStdout: true, AttachStderr: true });
  const { stdout: after2 } = await collect((await t.engine.exec.start(probe2.Id, {}))!.output);
  assert.match(after2, new RegExp(`inet ${prefix(1).replace(/\./g, '\\.')}2/24 .*eth1`), after2);
  assert.equal(after2.match(/^default/gm)?.length, 1, after2);
  await c.remove(Id, { force: true });
  await t.engine.networks.remove('nl-second');
  await t.engine.networks.remove('nl-web');
});

test('a failed netlink request fails the start with what failed and why, and leaves no veth behind', async () => {
  const { Id: netId } = await t.engine.networks.create({ Name: 'nl-broken', IPAM: { Config: [{ Subnet: subnet(2) }] } });
  const c = t.engine.containers;

  // The kernel refuses a multicast MAC for the container's end: nothing is made.
  const { Id: m } = await c.create({ Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'nl-broken' }, NetworkingConfig: { EndpointsConfig: { 'nl-broken': { MacAddress: '01:00:5e:00:00:01' } } } }, {});
  await assert.rejects(c.start(m), /network nl-broken: setting up the container's interfaces: creating veth eth0 \(peer vh[0-9a-f]{10}, address 01:00:5e:00:00:01\): cannot assign requested address \[EADDRNOTAVAIL\]/);
  await c.remove(m, { force: true });

  // Something else took the bridge's name (a veth, which cannot have ports): the container's
  // veth is made, attaching its host end fails.
  const br = bridgeOf(netId);
  execFileSync('ip', ['link', 'del', br]);
  madeLinks.push(br);
  execFileSync('ip', ['link', 'add', br, 'type', 'veth', 'peer', 'name', `nlp${netId.slice(0, 10)}`]);
  const { Id } = await c.create({ Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'nl-broken' } }, {});
  const err = await c.start(Id).then(() => null, (e: Error) => e);
  assert.ok(err, 'the start succeeded on a veth as "bridge"');
  assert.match(err.message, new RegExp(`network nl-broken: setting up the bridge port: attaching (vh[0-9a-f]{10}) to bridge ${br}: operation not supported \\[EOPNOTSUPP\\]`));
  const veth = /attaching (vh[0-9a-f]{10})/.exec(err.message)![1]!;
  assert.equal(existsSync(`/sys/class/net/${veth}`), false, `${veth} was left behind`);
  assert.doesNotMatch(execFileSync('ip', ['-o', 'link']).toString(), new RegExp(`\\b${veth}\\b`));
  // The container is left created, with no namespace: a later start after the fix works.
  const info = await c.inspect(Id);
  assert.equal((info.State as { Running: boolean }).Running, false);
  assert.equal(readdirSync(`${t.execRoot}/netns`).includes(Id), false);
  await c.remove(Id, { force: true });
});

test('netlink and the `ip` fallback set up the same endpoint identically, inside and on the bridge', async () => {
  const tag = Math.random().toString(16).slice(2, 8);
  const br = `nlc${tag}`;
  madeLinks.push(br);
  execFileSync('ip', ['link', 'add', br, 'type', 'bridge']);
  execFileSync('ip', ['addr', 'add', `${prefix(3)}1/24`, 'dev', br]);
  execFileSync('ip', ['link', 'set', br, 'up']);
  const dir = mkdtempSync(join(tmpdir(), 'hako-nlcmp-'));
  const views: string[] = [];
  try {
    for (const netlink of [true, false]) {
      const host = new LinuxNetHost({ netlink });
      const ns = join(dir, `ns-${netlink}`);
      const peer = `vhc${tag}${netlink ? 1 : 0}`;
      madeLinks.push(peer);
      await host.createNetns(ns);
      try {
        await host.plugContainer(ns, [{ ifname: 'eth0', mac: '02:42:0a:da:00:05', ip: `${prefix(3)}5`, prefix: 24, gateway: `${prefix(3)}1`, peer }], { loopback: true });
        await host.plugHost([{ peer, bridge: br, hairpin: true }]);
        const inside = execFileSync('nsenter', [`--net=${ns}`, 'sh', '-c', 'ip -d link; ip -4 addr; ip route']).toString();
        const outside = execFileSync('sh', ['-c', `ip -d link show dev ${peer}; ip -4 addr show dev ${peer}; bridge -d link show dev ${peer}`]).toString();
        const hostMac = readFileSync(`/sys/class/net/${peer}/address`, 'utf8').trim();
        views.push(`${inside}\n--- host end ---\n${outside}`
          .replaceAll(peer, 'PEER').replaceAll(hostMac, 'HOSTMAC')
          .replace(/^\d+: /gm, 'N: ').replace(/@if\d+/g, '@ifN')
          .replace(/ (state|link-netnsid|designated_bridge|designated_root) \S+/g, ' $1 X').replace(/_timer\s+[\d.]+/g, '_timer X').replace(/,?M-DOWN|,?NO-CARRIER|,?LOWER_UP/g, ''));
      } finally {
        host.close();
        await host.removeNetns(ns);
        try { execFileSync('ip', ['link', 'del', peer], { stdio: 'ignore' }); } catch { /* went with the namespace */ }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.match(views[0]!, /eth0@ifN: <BROADCAST,MULTICAST,UP>/);
  assert.match(views[0]!, /hairpin on/);
  assert.equal(views[0], views[1]);
});
