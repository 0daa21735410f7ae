/**
 * rtnetlink messages for a container's network set-up, encoded over Buffer: what `ip link add
 * … type veth peer …`, `ip addr add`, `ip route add default via` and `ip link set … master … up`
 * send, and nothing more (the cold paths keep `ip -batch`). Pure: no I/O; the addon's
 * netlinkTalk sends a batch and matches the acks (host.ts).
 *
 * Layouts: <linux/netlink.h> (nlmsghdr, nlattr), <linux/rtnetlink.h> (ifinfomsg, ifaddrmsg,
 * rtmsg), <linux/if_link.h> (IFLA_*), <linux/veth.h>. Host byte order (little-endian here, as the
 * kernel expects: netlink is never byte-swapped), except addresses, which are network order.
 */

// nlmsghdr.nlmsg_type
export const RTM_NEWLINK = 16;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_NEWROUTE = 24;

// nlmsghdr.nlmsg_flags
export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;

export const AF_UNSPEC = 0;
export const AF_INET = 2;

// ifinfomsg.ifi_flags
export const IFF_UP = 0x1;

// rtattr types of RTM_*LINK
export const IFLA_ADDRESS = 1;
export const IFLA_IFNAME = 3;
export const IFLA_MASTER = 10;
export const IFLA_LINKINFO = 18;
export const IFLA_NET_NS_PID = 19;
// nested in IFLA_LINKINFO
export const IFLA_INFO_KIND = 1;
export const IFLA_INFO_DATA = 2;
export const IFLA_INFO_SLAVE_DATA = 5;
// nested in IFLA_INFO_DATA of a veth
export const VETH_INFO_PEER = 1;
// nested in IFLA_INFO_SLAVE_DATA of a bridge port
export const IFLA_BRPORT_MODE = 4;

// rtattr types of RTM_*ADDR
export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;

// rtattr types of RTM_*ROUTE, and rtmsg fields
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RT_TABLE_MAIN = 254;
export const RTPROT_BOOT = 3;
export const RT_SCOPE_UNIVERSE = 0;
export const RTN_UNICAST = 1;

const NLMSG_HDRLEN = 16;
const IFINFOMSG_LEN = 16;
const align4 = (n: number) => (n + 3) & ~3;

/** One message of a batch before it gets its sequence number. */
export interface NlRequest {
  type: number;
  flags: number;
  /** The fixed header (ifinfomsg, …) followed by its attributes. */
  body: Buffer;
  /** For error messages: what the request does, e.g. `creating veth eth0`. */
  what: string;
}

/** nlmsghdr + body; nlmsg_pid 0 (the kernel fills in the socket's port). */
export function nlmsg(type: number, flags: number, seq: number, body: Buffer): Buffer {
  const h = Buffer.alloc(NLMSG_HDRLEN);
  h.writeUInt32LE(NLMSG_HDRLEN + body.length, 0);
  h.writeUInt16LE(type, 4);
  h.writeUInt16LE(flags, 6);
  h.writeUInt32LE(seq >>> 0, 8);
  h.writeUInt32LE(0, 12);
  return Buffer.concat([h, body]);
}

/** An rtattr: length (header + payload, unpadded), type, payload padded to 4 bytes. */
export function attr(type: number, payload: Buffer): Buffer {
  const b = Buffer.alloc(4 + align4(payload.length));
  b.writeUInt16LE(4 + payload.length, 0);
  b.writeUInt16LE(type, 2);
  payload.copy(b, 4);
  return b;
}

/** A nested attribute (iproute2's addattr_nest: no NLA_F_NESTED flag, as the kernel accepts). */
export function nest(type: number, ...children: Buffer[]): Buffer {
  return attr(type, Buffer.concat(children));
}

/** A NUL-terminated string (IFLA_IFNAME); `kindAttr` without the NUL, as iproute2 sends kinds. */
export const strAttr = (type: number, s: string): Buffer => attr(type, Buffer.from(`${s}\0`, 'latin1'));
export const kindAttr = (type: number, s: string): Buffer => attr(type, Buffer.from(s, 'latin1'));

export function u32Attr(type: number, v: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32LE(v >>> 0, 0);
  return attr(type, p);
}

export const u8Attr = (type: number, v: number): Buffer => attr(type, Buffer.from([v & 255]));

/** Dotted IPv4 to its 4 bytes in network order. */
export function ipv4(ip: string): Buffer {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new RangeError(`invalid IPv4 address ${JSON.stringify(ip)}`);
  return Buffer.from(parts);
}

export function mac(s: string): Buffer {
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(s)) throw new RangeError(`invalid MAC address ${JSON.stringify(s)}`);
  return Buffer.from(s.split(':').map((h) => parseInt(h, 16)));
}

export function ifinfomsg(o: { family?: number; type?: number; index?: number; flags?: number; change?: number } = {}): Buffer {
  const b = Buffer.alloc(IFINFOMSG_LEN);
  b.writeUInt8(o.family ?? AF_UNSPEC, 0);
  b.writeUInt16LE(o.type ?? 0, 2);
  b.writeInt32LE(o.index ?? 0, 4);
  b.writeUInt32LE(o.flags ?? 0, 8);
  b.writeUInt32LE(o.change ?? 0, 12);
  return b;
}

export function ifaddrmsg(o: { family: number; prefixlen: number; flags?: number; scope?: number; index: number }): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(o.family, 0);
  b.writeUInt8(o.prefixlen, 1);
  b.writeUInt8(o.flags ?? 0, 2);
  b.writeUInt8(o.scope ?? RT_SCOPE_UNIVERSE, 3);
  b.writeUInt32LE(o.index, 4);
  return b;
}

export function rtmsg(o: { family: number; dstLen?: number; table?: number; protocol?: number; scope?: number; type?: number }): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(o.family, 0);
  b.writeUInt8(o.dstLen ?? 0, 1);
  b.writeUInt8(0, 2); // rtm_src_len
  b.writeUInt8(0, 3); // rtm_tos
  b.writeUInt8(o.table ?? RT_TABLE_MAIN, 4);
  b.writeUInt8(o.protocol ?? RTPROT_BOOT, 5);
  b.writeUInt8(o.scope ?? RT_SCOPE_UNIVERSE, 6);
  b.writeUInt8(o.type ?? RTN_UNICAST, 7);
  b.writeUInt32LE(0, 8); // rtm_flags
  return b;
}

const CREATE = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
const CHANGE = NLM_F_REQUEST | NLM_F_ACK;

/**
 * `ip link add <name> address <mac> type veth peer name <peer> netns /proc/<peerPid>/ns/net`:
 * the pair is made in the socket's namespace, and its peer end moved to `peerNsPid`'s if given.
 */
export function newVeth(o: { name: string; mac?: string; peer: string; peerNsPid?: number }): NlRequest {
  const body = Buffer.concat([
    ifinfomsg(),
    ...(o.mac ? [attr(IFLA_ADDRESS, mac(o.mac))] : []),
    strAttr(IFLA_IFNAME, o.name),
    nest(IFLA_LINKINFO,
      kindAttr(IFLA_INFO_KIND, 'veth'),
      nest(IFLA_INFO_DATA,
        attr(VETH_INFO_PEER, Buffer.concat([ifinfomsg(), ...(o.peerNsPid !== undefined ? [u32Attr(IFLA_NET_NS_PID, o.peerNsPid)] : []), strAttr(IFLA_IFNAME, o.peer)])))),
  ]);
  return { type: RTM_NEWLINK, flags: CREATE, body, what: `creating veth ${o.name} (peer ${o.peer}${o.mac ? `, address ${o.mac}` : ''})` };
}

/** `ip link show <name>`: the reply is an RTM_NEWLINK message (see linkIndex). */
export function getLink(name: string): NlRequest {
  return { type: RTM_GETLINK, flags: CHANGE, body: Buffer.concat([ifinfomsg(), strAttr(IFLA_IFNAME, name)]), what: `looking up link ${name}` };
}

/** `ip link set <name> [master <index>] up`. */
export function setLinkUp(name: string, o: { master?: number } = {}): NlRequest {
  const body = Buffer.concat([
    ifinfomsg({ flags: IFF_UP, change: IFF_UP }),
    strAttr(IFLA_IFNAME, name),
    ...(o.master !== undefined ? [u32Attr(IFLA_MASTER, o.master)] : []),
  ]);
  return { type: RTM_NEWLINK, flags: CHANGE, body, what: o.master !== undefined ? `attaching ${name} to bridge (index ${o.master}) and setting it up` : `setting ${name} up` };
}

/**
 * `ip link set <name> type bridge_slave hairpin on|off`: IFLA_BRPORT_MODE in the port's slave
 * data, which the kernel hands to the link's master (so no kind is needed: iproute2's
 * "bridge_slave" kind is not one the kernel knows). The link must already be a port of a bridge:
 * a separate, later message than the one setting its master.
 */
export function setHairpin(name: string, on: boolean): NlRequest {
  const body = Buffer.concat([
    ifinfomsg(),
    strAttr(IFLA_IFNAME, name),
    nest(IFLA_LINKINFO, nest(IFLA_INFO_SLAVE_DATA, u8Attr(IFLA_BRPORT_MODE, on ? 1 : 0))),
  ]);
  return { type: RTM_NEWLINK, flags: CHANGE, body, what: `setting hairpin ${on ? 'on' : 'off'} on bridge port ${name}` };
}

/** `ip addr add <ip>/<prefix> dev <index>` (IFA_LOCAL and IFA_ADDRESS both, as iproute2). */
export function addAddress4(index: number, ip: string, prefix: number, ifname = `#${index}`): NlRequest {
  const a = ipv4(ip);
  const body = Buffer.concat([ifaddrmsg({ family: AF_INET, prefixlen: prefix, index }), attr(IFA_LOCAL, a), attr(IFA_ADDRESS, a)]);
  return { type: RTM_NEWADDR, flags: CREATE, body, what: `adding address ${ip}/${prefix} to ${ifname}` };
}

/** `ip route add default via <gateway> dev <index>`. */
export function addDefaultRoute4(index: number, gateway: string, ifname = `#${index}`): NlRequest {
  const body = Buffer.concat([rtmsg({ family: AF_INET }), attr(RTA_GATEWAY, ipv4(gateway)), u32Attr(RTA_OIF, index)]);
  return { type: RTM_NEWROUTE, flags: CREATE, body, what: `adding default route via ${gateway} dev ${ifname}` };
}

let nextSeq = Math.floor(Math.random() * 0x7fffffff);

/** Numbers the requests and concatenates them into one datagram. */
export function batch(reqs: readonly NlRequest[]): Buffer {
  return Buffer.concat(reqs.map((r) => nlmsg(r.type, r.flags, (nextSeq = (nextSeq + 1) >>> 0), r.body)));
}

/** ifi_index of an RTM_NEWLINK reply (nlmsghdr then ifinfomsg). */
export function linkIndex(reply: Buffer): number {
  if (reply.length < NLMSG_HDRLEN + IFINFOMSG_LEN || reply.readUInt16LE(4) !== RTM_NEWLINK) throw new RangeError('not an RTM_NEWLINK message');
  return reply.readInt32LE(NLMSG_HDRLEN + 4);
}
