/**
 * The networking scenarios of issue #5 as a CLI user types them, run by the real docker CLI
 * (test/compat/network.test.ts) and by `hako` (test/integration/network/cli.test.ts) against a
 * real hakod. Containers use `--dns 127.0.0.1`, so a name the embedded DNS does not know is
 * forwarded to the host's loopback and nothing leaves the machine; HTTP goes to 127.0.0.1 and to
 * addresses on the bridges the scenario created.
 */
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { request } from 'node:http';
import { startHakod, type Hakod, type RunResult, type RunOptions } from './hakod.js';

function show(r: RunResult): string {
  return `exit ${r.code}\nstdout: ${JSON.stringify(r.stdout)}\nstderr: ${JSON.stringify(r.stderr)}`;
}

/** A TCP port nobody holds now: bound on 127.0.0.1 port 0, then released. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** GET on 127.0.0.1, retried while the server in the container is coming up. */
export async function httpGet(port: number, path: string, tries = 30): Promise<string> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      return await new Promise<string>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, timeout: 2000 }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body));
        });
        req.on('error', reject).on('timeout', () => req.destroy(new Error('timeout'))).end();
      });
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`GET 127.0.0.1:${port}${path}: ${String(last)}`);
}

const links = () => execFileSync('ip', ['-o', 'link']).toString();

/** Registers the scenarios with node:test, running `cli` ('docker' or 'hako') against one hakod. */
export function networkScenarios(cli: 'docker' | 'hako'): void {
  let d: Hakod;
  const bridges: string[] = [];
  /** A /24 per scenario out of 10.214.0.0/16, at random so parallel runs do not clash. */
  const base = 1 + Math.floor(Math.random() * 200);
  const subnet = (i: number) => `10.214.${base + i}.0/24`;

  const run = (args: string[], o?: RunOptions) => (cli === 'docker' ? d.docker(args, o) : d.hako(args, o));
  const ok = async (args: string[], o?: RunOptions): Promise<string> => {
    const r = await run(args, o);
    assert.equal(r.code, 0, `${cli} ${args.join(' ')}\n${show(r)}\n--- hakod ---\n${d.logTail(15)}`);
    return r.stdout;
  };
  const fails = async (args: string[], stderr: RegExp): Promise<void> => {
    const r = await run(args);
    assert.notEqual(r.code, 0, `${cli} ${args.join(' ')} should fail\n${show(r)}`);
    assert.match(r.stderr, stderr, `${cli} ${args.join(' ')}\n${show(r)}`);
  };
  const network = async (name: string, i: number, ...extra: string[]): Promise<string> => {
    const id = (await ok(['network', 'create', '--subnet', subnet(i), ...extra, name])).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    bridges.push(`br-${id.slice(0, 12)}`);
    return id;
  };
  const ipOn = async (container: string, net: string) =>
    (await ok(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, container])).trim();

  before(async () => {
    d = await startHakod();
  });
  after(async () => {
    await d?.stop();
    // hakod's shutdown took every bridge it made, and its nftables table, with it.
    for (const b of bridges) assert.doesNotMatch(links(), new RegExp(`\\b${b}\\b`), `${b} left behind`);
  });

  it(`${cli} network create/ls/inspect/rm: docker's table and fields; a bridge appears and goes`, async () => {
    const id = await network('front', 0, '--gateway', `10.214.${base}.254`, '--ip-range', `10.214.${base}.128/25`, '--label', 'team=web', '--attachable');
    assert.equal(await ok(['network', 'ls', '--filter', 'name=front']), `NETWORK ID     NAME      DRIVER    SCOPE\n${id.slice(0, 12)}   front     bridge    local\n`);
    assert.equal(await ok(['network', 'ls', '-q', '--filter', 'label=team=web']), `${id.slice(0, 12)}\n`);
    assert.equal(await ok(['network', 'ls', '--no-trunc', '--format', '{{.ID}} {{.Name}} {{.Labels}} {{.Internal}}', '--filter', 'id=' + id.slice(0, 8)]), `${id} front team=web false\n`);
    const ls = await ok(['network', 'ls', '--format', '{{.Name}}']);
    assert.deepEqual(ls.trim().split('\n'), ['bridge', 'front', 'host', 'none']);
    const info = JSON.parse(await ok(['network', 'inspect', 'front'])) as Array<Record<string, any>>;
    assert.deepEqual(info[0]!.IPAM.Config, [{ Subnet: subnet(0), Gateway: `10.214.${base}.254`, IPRange: `10.214.${base}.128/25` }]);
    assert.equal(info[0]!.Attachable, true);
    assert.match(links(), new RegExp(`\\bbr-${id.slice(0, 12)}\\b`));
    // A container on the network gets its address from the --ip-range.
    await ok(['run', '-d', '--name', 'ranged', '--network', 'front', 'busybox', 'sleep', '60']);
    assert.equal(await ipOn('ranged', 'front'), `10.214.${base}.128`);
    assert.equal(await ok(['network', 'inspect', '-f', '{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}', 'front']), `ranged 10.214.${base}.128/24\n`);
    await fails(['network', 'rm', 'front'], /network front has active endpoints \(ranged\)/);
    await ok(['rm', '-f', 'ranged']);
    assert.equal(await ok(['network', 'rm', 'front']), 'front\n');
    assert.doesNotMatch(links(), new RegExp(`\\bbr-${id.slice(0, 12)}\\b`));
    await fails(['network', 'inspect', 'front'], /network front not found/);
  });

  it(`${cli} network create refuses bad input clearly and makes nothing`, async () => {
    await network('taken', 1);
    await fails(['network', 'create', '--subnet', subnet(1), 'clash'], /subnet .* overlaps with network taken/);
    await fails(['network', 'create', '--subnet', subnet(2), '--gateway', `10.214.${base + 3}.1`, 'gw'], /no matching subnet for gateway/);
    await fails(['network', 'create', 'taken'], /network with name taken already exists/);
    await fails(['network', 'rm', 'bridge'], /bridge is a pre-defined network and cannot be removed/);
    await fails(['network', 'create', '-d', 'overlay', 'ov'], /plugin "overlay" not found/);
    assert.deepEqual((await ok(['network', 'ls', '--format', '{{.Name}}'])).trim().split('\n'), ['bridge', 'host', 'none', 'taken']);
    await ok(['network', 'rm', 'taken']);
  });

  it(`${cli} run on a user network: names and --network-alias resolve; not on the default bridge`, async () => {
    await network('dnsnet', 4);
    await ok(['run', '-d', '--name', 'web', '--network', 'dnsnet', '--network-alias', 'frontend', '--dns', '127.0.0.1', 'busybox', 'sleep', '60']);
    const ip = await ipOn('web', 'dnsnet');
    assert.match(ip, new RegExp(`^10\\.214\\.${base + 4}\\.\\d+$`));
    const out = await ok(['run', '--rm', '--network', 'dnsnet', '--dns', '127.0.0.1', 'busybox', 'sh', '-c', 'nslookup web && nslookup frontend && ping -c1 -W2 frontend']);
    assert.ok(out.split(ip).length - 1 >= 3, out);
    const r = await run(['run', '--rm', '--dns', '127.0.0.1', 'busybox', 'nslookup', 'web']);
    assert.notEqual(r.code, 0, show(r));
    await ok(['rm', '-f', 'web']);
    await ok(['network', 'rm', 'dnsnet']);
  });

  it(`${cli} network connect/disconnect: two networks are isolated until a running container joins the other`, async () => {
    await network('net-a', 5);
    await network('net-b', 6);
    await ok(['run', '-d', '--name', 'target', '--network', 'net-b', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc']);
    await ok(['run', '-d', '--name', 'probe', '--network', 'net-a', 'busybox', 'sleep', '60']);
    const target = await ipOn('target', 'net-b');
    const reach = async () => {
      const r = await run(['exec', 'probe', 'sh', '-c', `printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${target} 80`]);
      return /200 OK/.test(r.stdout);
    };
    assert.equal(await reach(), false, 'net-a reached net-b');
    assert.equal(await ok(['network', 'connect', '--alias', 'prober', 'net-b', 'probe']), '');
    assert.equal(await reach(), true, 'connected to net-b, but the target is not reachable');
    assert.match(await ok(['network', 'inspect', '-f', '{{range .Containers}}{{.Name}} {{end}}', 'net-b']), /\bprobe\b/);
    assert.match(await ok(['inspect', '-f', '{{json (index .NetworkSettings.Networks "net-b").Aliases}}', 'probe']), /"prober"/);
    assert.equal(await ok(['network', 'disconnect', 'net-b', 'probe']), '');
    assert.equal(await reach(), false, 'disconnected from net-b, but the target is still reachable');
    await fails(['network', 'disconnect', 'net-b', 'probe'], /is not connected to network net-b/);
    await ok(['rm', '-f', 'target', 'probe']);
    assert.equal(await ok(['network', 'rm', 'net-a', 'net-b']), 'net-a\nnet-b\n');
  });

  it(`${cli} run -p 127.0.0.1:PORT:80: busybox httpd answers the host; ${cli} port and ps show the mapping`, async () => {
    const port = await freePort();
    await ok(['run', '-d', '--name', 'pub', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sh', '-c', 'echo hello-from-httpd > /tmp/index.html; exec httpd -f -p 80 -h /tmp']);
    assert.equal(await httpGet(port, '/index.html'), 'hello-from-httpd\n');
    assert.equal(await ok(['port', 'pub']), `80/tcp -> 127.0.0.1:${port}\n`);
    assert.equal(await ok(['port', 'pub', '80/tcp']), `127.0.0.1:${port}\n`);
    await fails(['port', 'pub', '81'], /No public port '81' published for pub/);
    assert.equal(await ok(['ps', '--filter', 'name=pub', '--format', '{{.Ports}}']), `127.0.0.1:${port}->80/tcp\n`);
    const r = await run(['run', '-d', '--name', 'pub2', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sleep', '9']);
    assert.notEqual(r.code, 0, show(r));
    assert.match(r.stderr, new RegExp(`port ${port}/tcp is already published by container pub`));
    await ok(['rm', '-f', 'pub', 'pub2']);
    // The port is the host's again.
    await freePortIs(port);
    // A port a host process holds: the message names it.
    const held = createServer();
    await new Promise<void>((r) => held.listen(port, '127.0.0.1', () => r()));
    try {
      const r2 = await run(['run', '-d', '--name', 'pub3', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sleep', '9']);
      assert.notEqual(r2.code, 0, show(r2));
      assert.match(r2.stderr, new RegExp(`port 127\\.0\\.0\\.1:${port}/tcp is already in use on the host by \\S+ \\(pid ${process.pid}\\)`), show(r2));
    } finally {
      await new Promise<void>((r) => held.close(() => r()));
    }
    await ok(['rm', '-f', 'pub3']);
  });

  it(`${cli} network prune removes unused custom networks only, with docker's report`, async () => {
    await network('keep', 7);
    await network('old', 8, '--label', 'stage=old');
    await ok(['run', '-d', '--name', 'user', '--network', 'keep', 'busybox', 'sleep', '60']);
    assert.equal(await ok(['network', 'prune', '-f', '--filter', 'label=stage=old']), 'Deleted Networks:\nold\n\n');
    assert.equal(await ok(['network', 'prune', '-f']), '');
    assert.deepEqual((await ok(['network', 'ls', '--format', '{{.Name}}'])).trim().split('\n'), ['bridge', 'host', 'keep', 'none']);
    await ok(['rm', '-f', 'user']);
    assert.equal(await ok(['network', 'prune', '-f']), 'Deleted Networks:\nkeep\n\n');
  });
}

/** Binding the port on 127.0.0.1 works (nothing of the container's holds it). */
async function freePortIs(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => s.close(() => resolve()));
  });
}
