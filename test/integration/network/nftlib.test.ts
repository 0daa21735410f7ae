// hako's nftables rules are applied in-process through libnftables (the addon's nftRun) instead of
// spawning `nft -f -`: the ports must answer as before, no nft process may run for a container's
// start and stop, and the kernel must end up with the same table, and the same errors, as nft gives.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tryNative } from '../../../src/native/index.js';
import { LinuxNetHost, networkConfigOf, buildRuleset, deleteTableScript, type RuleNetwork, type RulePort } from '../../../src/network/index.js';
import { startHakod, type Hakod } from '../../support/hakod.js';
import { freePort, httpGet } from '../../support/network-cli.js';

const tag = Math.random().toString(16).slice(2, 8);
/** Tables this file made itself (not hakod's), deleted in after(). */
const madeTables: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'hako-nftlib-'));
let h: Hakod | undefined;

before(() => {
  assert.equal(typeof tryNative()?.nftRun, 'function', 'the addon is built with libnftables (apt-get install libnftables-dev; scripts/build-native.sh)');
});
after(async () => {
  await h?.stop();
  for (const t of madeTables) {
    try { execFileSync('nft', ['delete', 'table', 'inet', t], { stdio: 'ignore' }); } catch { /* never made, or removed */ }
  }
  rmSync(dir, { recursive: true, force: true });
});

const nftListTable = (table: string) => execFileSync('nft', ['list', 'table', 'inet', table]).toString();

test('a published port answers on 127.0.0.1 and hakod spawns no nft, from its start to its stop', async () => {
  // An `nft` first in hakod's PATH that records each call, then runs the real one.
  const bin = join(dir, 'bin');
  const calls = join(dir, 'nft-calls');
  execFileSync('mkdir', ['-p', bin]);
  writeFileSync(calls, '');
  writeFileSync(join(bin, 'nft'), `#!/bin/sh\necho "$*" >> ${calls}\nexec ${execFileSync('sh', ['-c', 'command -v nft']).toString().trim()} "$@"\n`);
  chmodSync(join(bin, 'nft'), 0o755);
  const path = process.env.PATH;
  process.env.PATH = `${bin}:${path ?? ''}`; // startHakod gives hakod this process's environment
  try {
    h = await startHakod();
  } finally {
    process.env.PATH = path;
  }
  const table = networkConfigOf({}, h.dataRoot).table;
  const ok = async (args: string[]) => {
    const r = await h!.hako(args);
    assert.equal(r.code, 0, `hako ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await ok(['network', 'create', '--subnet', `10.219.${1 + Math.floor(Math.random() * 250)}.0/24`, `nftlib-${tag}`]);

  const port = await freePort();
  const id = (await ok(['run', '-d', '--network', `nftlib-${tag}`, '-p', `127.0.0.1:${port}:80`, 'busybox', 'sh', '-c', 'echo hello-nftlib > /tmp/index.html; exec httpd -f -p 80 -h /tmp'])).trim();
  assert.equal(await httpGet(port, '/index.html'), 'hello-nftlib\n');
  assert.match(nftListTable(table), new RegExp(`ip daddr 127\\.0\\.0\\.1 tcp dport ${port} dnat ip to 10\\.219\\.\\d+\\.2:80`));
  await ok(['stop', '-t', '1', id]);
  assert.doesNotMatch(nftListTable(table), new RegExp(`dport ${port}\\b`));
  await ok(['start', id]);
  assert.equal(await httpGet(port, '/index.html'), 'hello-nftlib\n');
  await ok(['rm', '-f', id]);
  assert.doesNotMatch(nftListTable(table), new RegExp(`dport ${port}\\b`));

  await ok(['network', 'rm', `nftlib-${tag}`]);
  await h.stop();
  h = undefined;
  // hakod's stop removed its table.
  assert.doesNotMatch(execFileSync('nft', ['list', 'tables']).toString(), new RegExp(`^table inet ${table}$`, 'm'));
  // Rules for the network, the container's starts and stops, the docker coexistence check
  // (`list tables`) and the table's removal: all through the library.
  assert.equal(readFileSync(calls, 'utf8'), '', 'hakod spawned nft');
});

test('libnftables and a spawned nft leave the same table after a start and a stop', async () => {
  const nets: RuleNetwork[] = [
    { bridge: `nlb${tag}a`, subnet: '10.219.251.0/24', internal: false },
    { bridge: `nlb${tag}b`, subnet: '10.219.252.0/24', internal: true },
  ];
  const web: RulePort[] = [
    { proto: 'tcp', hostIp: '', hostPort: 18080, containerIp: '10.219.251.2', containerPort: 80 },
    { proto: 'udp', hostIp: '127.0.0.1', hostPort: 18053, containerIp: '10.219.251.2', containerPort: 53 },
  ];
  const db: RulePort[] = [{ proto: 'tcp', hostIp: '127.0.0.1', hostPort: 15432, containerIp: '10.219.251.3', containerPort: 5432 }];
  const views: string[][] = [];
  for (const libnftables of [true, false]) {
    const table = `hakonft${tag}${libnftables ? 'l' : 's'}`;
    madeTables.push(table);
    const host = new LinuxNetHost({ libnftables });
    const seen: string[] = [];
    for (const ports of [[...web, ...db], web, []]) {
      await host.nft(buildRuleset(table, nets, ports));
      seen.push(nftListTable(table).replaceAll(table, 'TABLE'));
    }
    await host.nft(deleteTableScript(table));
    assert.doesNotMatch(execFileSync('nft', ['list', 'tables']).toString(), new RegExp(`^table inet ${table}$`, 'm'));
    views.push(seen);
  }
  assert.match(views[0]![0]!, /ip daddr 127\.0\.0\.1 tcp dport 15432 dnat ip to 10\.219\.251\.3:5432/);
  assert.doesNotMatch(views[0]![1]!, /15432/);
  assert.deepEqual(views[0], views[1]);
});

test('a bad script rejects with the message nft prints, and changes nothing', async () => {
  const table = `hakonft${tag}x`;
  madeTables.push(table);
  const good = buildRuleset(table, [], [{ proto: 'tcp', hostIp: '', hostPort: 18081, containerIp: '10.219.253.2', containerPort: 80 }]);
  const bad = [
    // A rule nft cannot parse (after a whole valid table).
    `${good}add rule inet ${table} ports tcp dport 1 dnat ip to\n`,
    // One the kernel refuses, in the same transaction as the new table: all of it is refused.
    `${good}delete table inet ${table}absent\n`,
  ];
  const nftSays = (script: string): string => {
    try {
      execFileSync('nft', ['-f', '-'], { input: script, stdio: ['pipe', 'pipe', 'pipe'] });
      return '';
    } catch (e) {
      return String((e as { stderr: Buffer }).stderr).trim();
    }
  };
  for (const script of bad) {
    const expected = nftSays(script);
    assert.match(expected, /^\/dev\/stdin:\d+:\d+-\d+: Error: /);
    for (const libnftables of [true, false]) {
      const host = new LinuxNetHost({ libnftables });
      await host.nft(good);
      const before = nftListTable(table);
      const err = await host.nft(script).then(() => null, (e: Error) => e);
      assert.ok(err, 'the bad script was accepted');
      if (libnftables) assert.equal((err.cause as NodeJS.ErrnoException).code, 'ENFT');
      assert.equal(err.message, `nft: ${expected}`, `libnftables: ${libnftables}`);
      assert.equal(nftListTable(table), before, 'a failed script changed the table');
    }
  }
  execFileSync('nft', ['delete', 'table', 'inet', table]);
});

test("libnftables' netfilter socket stays in hakod: a spawned process does not inherit it", async () => {
  await new LinuxNetHost().nftTables(); // the library's context (and its socket) exists from here
  const netfilter = new Set(readFileSync('/proc/net/netlink', 'utf8').split('\n').slice(1)
    .map((l) => l.trim().split(/\s+/)).filter((f) => f[1] === '12').map((f) => f[f.length - 1]));
  assert.ok(netfilter.size > 0, 'no NETLINK_NETFILTER socket open: the test would prove nothing');
  const inherited = execFileSync('sh', ['-c', 'for f in /proc/$$/fd/*; do readlink "$f"; done; true']).toString()
    .split('\n').map((l) => /^socket:\[(\d+)\]$/.exec(l)?.[1]).filter((i) => i && netfilter.has(i));
  assert.deepEqual(inherited, []);
});
