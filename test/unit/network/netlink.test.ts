import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as nl from '../../../src/network/netlink.js';
import { containerIpCommands, hostIpCommands } from '../../../src/network/host.js';

// Expected bytes: what iproute2 6.1 sends for the same command (strace -xx of `ip …` in a scratch
// namespace), with its sequence number 1795377267 (0x6b034873) and nlmsg_pid 0.
const SEQ = 1795377267;
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const wire = (r: nl.NlRequest) => nl.nlmsg(r.type, r.flags, SEQ, r.body);

test('a veth pair is the bytes of `ip link add eth0 address … type veth peer name vhtest0 netns 1`', () => {
  const r = nl.newVeth({ name: 'eth0', mac: '02:42:0a:00:00:02', peer: 'vhtest0', peerNsPid: 1 });
  assert.equal(wire(r).toString('hex'), hex(`
    70000000 1000 0506 7348036b 00000000
    00000000 00000000 00000000 00000000
    0a000100 02420a000002 0000
    09000300 6574683000 000000
    38001200
      08000100 76657468
      2c000200
        28000100 00000000 00000000 00000000 00000000
          08001300 01000000
          0c000300 76687465737430 00
  `).toString('hex'));
  assert.match(r.what, /veth eth0 \(peer vhtest0, address 02:42:0a:00:00:02\)/);
});

test('an address is the bytes of `ip addr add 10.0.0.2/24 dev eth0`: IFA_LOCAL and IFA_ADDRESS', () => {
  assert.equal(wire(nl.addAddress4(2, '10.0.0.2', 24)).toString('hex'), hex(`
    28000000 1400 0506 7348036b 00000000
    02 18 00 00 02000000
    08000200 0a000002
    08000100 0a000002
  `).toString('hex'));
});

test('the default route is the bytes of `ip route add default via 10.0.0.1 dev eth0`', () => {
  assert.equal(wire(nl.addDefaultRoute4(2, '10.0.0.1', 'eth0')).toString('hex'), hex(`
    2c000000 1800 0506 7348036b 00000000
    02 00 00 00 fe 03 00 01 00000000
    08000500 0a000001
    08000400 02000000
  `).toString('hex'));
});

test('a link is set up and on its bridge by name: IFF_UP in flags and change, IFLA_MASTER the bridge index', () => {
  assert.equal(wire(nl.setLinkUp('vh0', { master: 2 })).toString('hex'), hex(`
    30000000 1000 0500 7348036b 00000000
    00 00 0000 00000000 01000000 01000000
    08000300 76683000
    08000a00 02000000
  `).toString('hex'));
});

test('hairpin is IFLA_BRPORT_MODE 1 in IFLA_INFO_SLAVE_DATA, as `ip link set … type bridge_slave hairpin on` (without its unknown kind)', () => {
  assert.equal(wire(nl.setHairpin('vh0', true)).toString('hex'), hex(`
    38000000 1000 0500 7348036b 00000000
    00000000 00000000 00000000 00000000
    08000300 76683000
    10001200
      0c000500
        05000400 01 000000
  `).toString('hex'));
});

test('a batch numbers its messages in order and a link index is read from an RTM_NEWLINK reply', () => {
  const b = nl.batch([nl.getLink('lo'), nl.setLinkUp('eth0')]);
  const first = b.readUInt32LE(0);
  assert.equal(b.readUInt16LE(4), nl.RTM_GETLINK);
  assert.equal(b.readUInt16LE(first + 4), nl.RTM_NEWLINK);
  assert.equal(b.readUInt32LE(first + 8), (b.readUInt32LE(8) + 1) >>> 0);
  assert.equal(first + b.readUInt32LE(first), b.length);
  const reply = nl.nlmsg(nl.RTM_NEWLINK, 0, 1, nl.ifinfomsg({ index: 7, flags: nl.IFF_UP }));
  assert.equal(nl.linkIndex(reply), 7);
  assert.throws(() => nl.linkIndex(nl.nlmsg(nl.RTM_NEWADDR, 0, 1, Buffer.alloc(16))), /RTM_NEWLINK/);
});

test('bad addresses are refused before anything is sent', () => {
  assert.throws(() => nl.addAddress4(2, '10.0.0.256', 24), /invalid IPv4 address "10.0.0.256"/);
  assert.throws(() => nl.newVeth({ name: 'eth0', mac: '02:42', peer: 'vh', peerNsPid: 1 }), /invalid MAC address "02:42"/);
});

test('without the addon, the same endpoint becomes the `ip -batch` lines it replaced', () => {
  const link = { ifname: 'eth0', mac: '02:42:0a:00:00:02', ip: '10.0.0.2', prefix: 24, gateway: '10.0.0.1', peer: 'vhabc' };
  assert.deepEqual(containerIpCommands([link, { ...link, ifname: 'eth1', gateway: undefined, peer: 'vhdef' }], { loopback: true }), [
    'link set lo up',
    `link add eth0 address 02:42:0a:00:00:02 type veth peer name vhabc netns /proc/${process.pid}/ns/net`,
    'addr add 10.0.0.2/24 dev eth0',
    'link set eth0 up',
    'route add default via 10.0.0.1 dev eth0',
    `link add eth1 address 02:42:0a:00:00:02 type veth peer name vhdef netns /proc/${process.pid}/ns/net`,
    'addr add 10.0.0.2/24 dev eth1',
    'link set eth1 up',
  ]);
  assert.deepEqual(hostIpCommands([{ peer: 'vhabc', bridge: 'br0', hairpin: true }, { peer: 'vhdef', bridge: 'br1', hairpin: false }]), [
    'link set vhabc master br0 up', 'link set vhabc type bridge_slave hairpin on', 'link set vhdef master br1 up',
  ]);
});
