/**
 * Networking across hakod's life, through the `hako` CLI against a real hakod: addresses, DNS and
 * published ports survive a crash and restart; what a container left while hakod was down is
 * released at restore; and a dockerd-like FORWARD DROP policy (made here, in a network namespace
 * of the test's own, with hakod running in it) does not cut hako's containers off.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startHakod, type Hakod, type RunResult } from '../../support/hakod.js';
import { freePort, httpGet } from '../../support/network-cli.js';

const base = 1 + Math.floor(Math.random() * 200);
const subnet = (i: number) => `10.216.${base + i}.0/24`;

function ok(r: RunResult, d: Hakod): string {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}\n--- hakod ---\n${d.logTail(15)}`);
  return r.stdout;
}

describe('hakod restart', () => {
  let d: Hakod;
  before(async () => {
    d = await startHakod();
  });
  after(async () => {
    await d?.stop();
  });

  const ip = async (name: string) => ok(await d.hako(['inspect', '-f', '{{(index .NetworkSettings.Networks "n-keep").IPAddress}}', name]), d).trim();

  it('a crash and restart keeps running containers\' addresses, DNS names and published ports; what died meanwhile is released', async () => {
    ok(await d.hako(['network', 'create', '--subnet', subnet(0), 'n-keep']), d);
    const port = await freePort();
    ok(await d.hako(['run', '-d', '--name', 'keeper', '--network', 'n-keep', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sh', '-c', 'echo kept > /tmp/index.html; exec httpd -f -p 80 -h /tmp']), d);
    const kept = await ip('keeper');
    assert.equal(await httpGet(port, '/index.html'), 'kept\n');
    const pid = Number(ok(await d.hako(['inspect', '-f', '{{.State.Pid}}', 'keeper']), d).trim());

    await d.kill9();
    await d.restart();
    assert.equal(await ip('keeper'), kept);
    assert.equal(await httpGet(port, '/index.html'), 'kept\n');
    const looked = ok(await d.hako(['run', '--rm', '--network', 'n-keep', '--dns', '127.0.0.1', 'busybox', 'sh', '-c', 'nslookup keeper; ip -4 -o addr show eth0']), d);
    assert.match(looked, new RegExp(`Address:? (?:1: )?${kept.replace(/\./g, '\\.')}`));
    assert.doesNotMatch(looked, new RegExp(`inet ${kept.replace(/\./g, '\\.')}/`), 'a new container got the running one\'s address');

    // The container dies while hakod is down: at restore its namespace, address and port go.
    await d.kill9();
    process.kill(pid, 'SIGKILL'); // the container's process, started by this test's hakod
    await d.restart();
    assert.equal(ok(await d.hako(['inspect', '-f', '{{.State.Running}}', 'keeper']), d), 'false\n');
    const again = ok(await d.hako(['run', '--rm', '--network', 'n-keep', '-p', `127.0.0.1:${port}:80`, 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0']), d);
    assert.match(again, new RegExp(`inet ${kept.replace(/\./g, '\\.')}/`));
    ok(await d.hako(['rm', 'keeper']), d);
  });

  it('endpoint rows of a container that vanished while hakod was down are cleaned at restore', async () => {
    const id = ok(await d.hako(['create', '--name', 'ghost', '--network', 'n-keep', 'busybox', 'true']), d).trim();
    const rows = () => {
      const db = new Database(join(d.dataRoot, 'hako.db'), { readonly: true });
      try {
        return (db.prepare('SELECT count(*) AS n FROM network_endpoints WHERE container_id = ?').get(id) as { n: number }).n;
      } finally {
        db.close();
      }
    };
    assert.equal(rows(), 1);
    await d.kill9();
    // What a crash between removing the record and its endpoints leaves (the only way to get there on purpose).
    const db = new Database(join(d.dataRoot, 'hako.db'));
    db.prepare('DELETE FROM containers WHERE id = ?').run(id);
    db.close();
    await d.restart();
    assert.equal(rows(), 0);
    assert.equal(ok(await d.hako(['network', 'rm', 'n-keep']), d), 'n-keep\n');
  });
});

describe('a dockerd-like FORWARD DROP in hakod\'s network namespace', () => {
  const ns = `hako-test-fwd-${process.pid}`;
  const inNs = (...argv: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8' });
  let d: Hakod | undefined;
  before(async () => {
    execFileSync('ip', ['netns', 'add', ns]);
    inNs('ip', 'link', 'set', 'lo', 'up');
    // What a running dockerd leaves in `table ip filter` (iptables-nft): FORWARD with policy drop.
    execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: 'table ip filter {\n  chain FORWARD {\n    type filter hook forward priority filter; policy drop;\n  }\n}\n' });
    d = await startHakod({ netns: ns });
  });
  after(async () => {
    try {
      await d?.stop();
      // hakod took its accept rules out of Docker's chain when it stopped.
      const left = spawnSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'chain', 'ip', 'filter', 'FORWARD'], { encoding: 'utf8' }).stdout;
      assert.doesNotMatch(left, /hako/, left);
    } finally {
      // Exactly what this test made: the table, then the namespace (everything in it goes with it).
      spawnSync('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'ip', 'filter'], { stdio: 'ignore' });
      spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    }
  });

  it('containers on one bridge reach each other, a container reaches another network\'s published port, the host reaches 127.0.0.1:PORT', async () => {
    const h = d!;
    ok(await h.hako(['network', 'create', '--subnet', subnet(1), 'n-web']), h);
    ok(await h.hako(['network', 'create', '--subnet', subnet(2), 'n-cli']), h);
    ok(await h.hako(['run', '-d', '--name', 'web', '--network', 'n-web', '-p', '127.0.0.1:18080:80', '-p', '18081:80', 'busybox', 'sh', '-c', 'echo through > /tmp/index.html; exec httpd -f -p 80 -h /tmp']), h);
    const webIp = ok(await h.hako(['inspect', '-f', '{{(index .NetworkSettings.Networks "n-web").IPAddress}}', 'web']), h).trim();
    const get = `printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 3`;
    // Same bridge: bridged frames pass the ip FORWARD hook (br_netfilter), where the DROP policy is.
    assert.match(ok(await h.hako(['run', '--rm', '--network', 'n-web', 'busybox', 'sh', '-c', `${get} ${webIp} 80`]), h), /through/);
    // Another network, through the published port on the gateway: routed and DNATed, so FORWARD again.
    const gw = `10.216.${base + 2}.1`;
    assert.match(ok(await h.hako(['run', '--rm', '--network', 'n-cli', 'busybox', 'sh', '-c', `${get} ${gw} 18081`]), h), /through/);
    // The host (this namespace) over 127.0.0.1.
    assert.match(inNs('curl', '-s', '--max-time', '5', 'http://127.0.0.1:18080/index.html'), /through/);
    ok(await h.hako(['rm', '-f', 'web']), h);
  });
});
