import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkRow, naturalLess, ipamConfig, goUtcString, NETWORK_TABLE, NETWORK_HEADERS } from '../../../src/cli/commands/network.js';
import { renderList } from '../../../src/cli/render.js';

const net = (name: string, extra: Record<string, unknown> = {}) => ({
  Name: name, Id: `${name.padEnd(12, 'x')}${'0'.repeat(52)}`, Created: '2024-05-01T10:20:30.120Z', Scope: 'local', Driver: 'bridge',
  EnableIPv4: true, EnableIPv6: false, Internal: false, Labels: {}, ...extra,
});

test('network ls prints docker\'s table: truncated ids, NAME, DRIVER, SCOPE, aligned by tabwriter', () => {
  const rows = [net('bridge'), net('my-net', { Driver: 'bridge' }), net('none', { Driver: 'null' })].map((n) => networkRow(n, true));
  const out = renderList(rows, { format: '', defaultTable: NETWORK_TABLE, headers: NETWORK_HEADERS });
  assert.equal(out,
    'NETWORK ID     NAME      DRIVER    SCOPE\n' +
    'bridgexxxxxx   bridge    bridge    local\n' +
    'my-netxxxxxx   my-net    bridge    local\n' +
    'nonexxxxxxxx   none      null      local\n');
});

test('network ls --format json marshals the context fields, like docker\'s networkContext', () => {
  const row = networkRow(net('n1', { Internal: true, Labels: { a: 'b' } }), false);
  const out = renderList([row], { format: 'json', defaultTable: NETWORK_TABLE, headers: NETWORK_HEADERS });
  assert.equal(out, `${JSON.stringify({
    CreatedAt: '2024-05-01 10:20:30.12 +0000 UTC', Driver: 'bridge', ID: `n1${'x'.repeat(10)}${'0'.repeat(52)}`, IPv4: 'true', IPv6: 'false',
    Internal: 'true', Labels: 'a=b', Name: 'n1', Scope: 'local',
  })}\n`);
  assert.equal(renderList([row], { format: '{{.Label "a"}} {{.Internal}}', defaultTable: NETWORK_TABLE, headers: NETWORK_HEADERS }), 'b true\n');
});

test('names sort naturally, as docker\'s sortorder.NaturalLess', () => {
  const names = ['net10', 'net2', 'bridge', 'net1', 'Net3'];
  assert.deepEqual(names.sort((a, b) => (naturalLess(a, b) ? -1 : naturalLess(b, a) ? 1 : 0)), ['Net3', 'bridge', 'net1', 'net2', 'net10']);
});

test('Created prints as Go\'s time.Time.String() in UTC', () => {
  assert.equal(goUtcString('2024-05-01T10:20:30Z'), '2024-05-01 10:20:30 +0000 UTC');
  assert.equal(goUtcString('2024-05-01T10:20:30.500Z'), '2024-05-01 10:20:30.5 +0000 UTC');
});

test('--subnet/--gateway/--ip-range are grouped per subnet, with docker\'s messages for what does not fit', () => {
  assert.deepEqual(ipamConfig(['10.1.0.0/16'], ['10.1.2.0/24'], ['10.1.0.254'], {}), [{ Subnet: '10.1.0.0/16', IPRange: '10.1.2.0/24', Gateway: '10.1.0.254' }]);
  assert.deepEqual(ipamConfig([], [], [], {}), []);
  assert.throws(() => ipamConfig([], [], ['10.1.0.1'], {}), /every ip-range or gateway must have a corresponding subnet/);
  assert.throws(() => ipamConfig(['10.1.0.0/24'], [], ['10.2.0.1'], {}), /no matching subnet for gateway 10\.2\.0\.1/);
  assert.throws(() => ipamConfig(['10.1.0.0/24'], ['10.3.0.0/28'], [], {}), /no matching subnet for range 10\.3\.0\.0\/28/);
  assert.throws(() => ipamConfig(['10.1.0.0/16', '10.1.5.0/24'], [], [], {}), /multiple overlapping subnet configuration is not supported/);
  // A malformed subnet is the daemon's to explain, as docker 28 leaves it.
  assert.deepEqual(ipamConfig(['bad'], [], [], {}), [{ Subnet: 'bad' }]);
});
