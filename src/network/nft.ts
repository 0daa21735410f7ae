/**
 * hako's nftables rules, built as one script from the networks and published ports, and applied
 * atomically (`nft -f -` replaces the whole table in one transaction). Pure: no process here.
 *
 * Everything lives in hako's own `table inet <name>`; nothing touches other tables except
 * `dockerUserRules`, which neutralises a running dockerd's FORWARD DROP policy for hako's
 * bridges (a drop in any base chain is final in nftables, so an accept in hako's own table alone
 * cannot let the packet through Docker's chain).
 */

export interface RuleNetwork {
  bridge: string;
  /** CIDR, e.g. 10.213.1.0/24. */
  subnet: string;
  internal: boolean;
}

export interface RulePort {
  proto: 'tcp' | 'udp' | 'sctp';
  /** '' or 0.0.0.0 for every host address. */
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

const q = (s: string) => JSON.stringify(s);

/** The whole table as an `nft -f` script that replaces any previous version of it. */
export function buildRuleset(table: string, networks: readonly RuleNetwork[], ports: readonly RulePort[]): string {
  const bridges = networks.map((n) => n.bridge);
  const forward: string[] = ['ct state established,related accept', 'ct status dnat accept'];
  const post: string[] = [];
  for (const n of networks) {
    const br = q(n.bridge);
    if (n.internal) {
      forward.push(`iifname ${br} oifname != ${br} drop`, `oifname ${br} iifname != ${br} drop`);
    } else {
      // Isolation between hako networks: nothing crosses from one bridge to another.
      if (bridges.length > 1) forward.push(`iifname ${br} oifname @bridges oifname != ${br} drop`);
      post.push(`ip saddr ${n.subnet} oifname != ${br} masquerade`);
    }
    // Published ports reached over 127.0.0.1, and hairpin (a container through a host port back to its own bridge).
    post.push(`oifname ${br} ip saddr 127.0.0.0/8 masquerade`, `oifname ${br} ct status dnat ip saddr ${n.subnet} masquerade`);
  }
  const dnat = ports.map((p) => {
    const daddr = p.hostIp && p.hostIp !== '0.0.0.0' ? `ip daddr ${p.hostIp} ` : '';
    return `${daddr}${p.proto} dport ${p.hostPort} dnat ip to ${p.containerIp}:${p.containerPort}`;
  });
  const chain = (name: string, head: string, rules: string[]) =>
    `  chain ${name} {\n    ${head}\n${rules.map((r) => `    ${r}\n`).join('')}  }\n`;
  return (
    `table inet ${table}\ndelete table inet ${table}\ntable inet ${table} {\n` +
    `  set bridges {\n    type ifname\n${bridges.length ? `    elements = { ${bridges.map(q).join(', ')} }\n` : ''}  }\n` +
    chain('forward', 'type filter hook forward priority filter - 10; policy accept;', forward) +
    chain('prerouting', 'type nat hook prerouting priority dstnat; policy accept;', ['meta nfproto ipv4 fib daddr type local jump ports']) +
    chain('output', 'type nat hook output priority -100; policy accept;', ['meta nfproto ipv4 fib daddr type local jump ports']) +
    chain('ports', '# published ports', dnat) +
    chain('postrouting', 'type nat hook postrouting priority srcnat; policy accept;', post) +
    '}\n'
  );
}

/** `nft -f` script that removes hako's table (no error when it is absent). */
export function deleteTableScript(table: string): string {
  return `table inet ${table}\ndelete table inet ${table}\n`;
}

/** iptables arguments (after -I/-D CHAIN) accepting a hako bridge's traffic in Docker's chain. */
export function dockerUserRules(table: string, bridge: string): string[][] {
  const comment = ['-m', 'comment', '--comment', `hako:${table}`];
  return [['-i', bridge, ...comment, '-j', 'ACCEPT'], ['-o', bridge, ...comment, '-j', 'ACCEPT']];
}
