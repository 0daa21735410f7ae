import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  pickSubnet, allocateAddress, subnetConfig, parseCidr, formatCidr, formatIp, buildRuleset, buildQuery, parseQuery, buildAnswer, parseAnswers, networkConfigOf,
} from '../../../src/network/index.js';

test('a new subnet skips the pools taken by networks and host routes', () => {
  const taken = [parseCidr('172.16.0.0/15'), parseCidr('172.18.5.0/24')];
  assert.equal(formatCidr(pickSubnet([{ base: '172.16.0.0/12', size: 16 }], taken)), '172.19.0.0/16');
  assert.throws(() => pickSubnet([{ base: '10.0.0.0/24', size: 24 }], [parseCidr('10.0.0.0/8')]), /non-overlapping/);
});

test('addresses come from the range, skip the gateway and taken ones, and a bad --ip is refused with its reason', () => {
  const cfg = subnetConfig(parseCidr('10.213.1.0/24'));
  assert.equal(formatIp(cfg.gateway), '10.213.1.1');
  assert.equal(formatIp(allocateAddress(cfg, new Set())), '10.213.1.2');
  assert.equal(formatIp(allocateAddress(cfg, new Set([allocateAddress(cfg, new Set())]))), '10.213.1.3');
  assert.throws(() => allocateAddress(cfg, new Set(), '10.9.9.9', 'n1'), /not a usable address of network n1/);
  assert.throws(() => allocateAddress(cfg, new Set([(10 << 24 | 213 << 16 | 1 << 8 | 7) >>> 0]), '10.213.1.7', 'n1'), /already in use on network n1/);
  assert.throws(() => subnetConfig(parseCidr('10.213.1.0/24'), '10.213.2.1'), /not a host address of subnet 10.213.1.0\/24/);
});

test('the ruleset isolates bridges, masquerades routed networks only, and DNATs published ports', () => {
  const s = buildRuleset('hako_t', [
    { bridge: 'br-a', subnet: '10.1.0.0/24', internal: false },
    { bridge: 'br-i', subnet: '10.2.0.0/24', internal: true },
  ], [{ proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, containerIp: '10.1.0.2', containerPort: 80 }]);
  assert.match(s, /^delete table inet hako_t$/m);
  assert.match(s, /iifname "br-a" oifname @bridges oifname != "br-a" drop/);
  assert.match(s, /iifname "br-i" oifname != "br-i" drop/);
  assert.match(s, /ip saddr 10\.1\.0\.0\/24 oifname != "br-a" masquerade/);
  assert.doesNotMatch(s, /ip saddr 10\.2\.0\.0\/24 oifname != "br-i" masquerade/);
  assert.match(s, /ip daddr 127\.0\.0\.1 tcp dport 8080 dnat ip to 10\.1\.0\.2:80/);
});

test('a DNS answer echoes the question and carries the A records in order', () => {
  const q = buildQuery(4242, 'web.');
  const parsed = parseQuery(q)!;
  assert.equal(parsed.question.name, 'web');
  const a = buildAnswer(q, parsed, ['10.0.0.2', '10.0.0.3']);
  assert.equal(a.readUInt16BE(0), 4242);
  assert.deepEqual(parseAnswers(a), { rcode: 0, addresses: ['10.0.0.2', '10.0.0.3'] });
  assert.equal(parseAnswers(buildAnswer(q, parsed, [], 3)).rcode, 3);
});

test('engines in other data roots get their own bridge and table names; bad daemon config is refused', () => {
  assert.deepEqual(networkConfigOf(undefined, '/var/lib/hako'), { table: 'hako', defaultBridge: 'hako0' });
  const other = networkConfigOf(undefined, '/tmp/x');
  assert.match(other.defaultBridge, /^hk[0-9a-f]{8}$/);
  assert.equal(networkConfigOf({ bip: '10.213.0.1/24', bridge: 'hkt0' }, '/tmp/x').bip, '10.213.0.1/24');
  assert.throws(() => networkConfigOf({ bip: '10.213.0.1' }, '/tmp/x'), /bip/);
  assert.throws(() => networkConfigOf({ 'default-address-pools': [{ base: '10.0.0.0/16', size: 8 }] }, '/tmp/x'), /size must be between/);
});
