/**
 * The /etc/hostname, /etc/hosts and /etc/resolv.conf that docker bind-mounts into a container.
 * Pure text builders; the service writes them into the container's directory.
 */

export function hostnameFile(hostname: string): string {
  return `${hostname}\n`;
}

export function hostsFile(hostname: string, extraHosts: string[] = [], address?: string): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  for (const entry of extraHosts) {
    const i = entry.indexOf(':');
    if (i > 0) lines.push(`${entry.slice(i + 1)}\t${entry.slice(0, i)}`);
  }
  lines.push(`${address ?? '127.0.1.1'}\t${hostname}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The host's resolv.conf with loopback nameservers dropped (they mean nothing inside the
 * container's network namespace), falling back to public resolvers as docker does.
 */
export function resolvConfFile(hostResolvConf: string, dns: string[] = [], search: string[] = [], options: string[] = []): string {
  const out: string[] = [];
  const servers = dns.length > 0 ? dns : [];
  for (const line of hostResolvConf.split('\n')) {
    const t = line.trim();
    if (t.startsWith('nameserver')) {
      const addr = t.split(/\s+/)[1] ?? '';
      if (dns.length === 0 && !addr.startsWith('127.') && addr !== '::1') servers.push(addr);
    } else if (t.startsWith('search') && search.length === 0) {
      out.push(t);
    } else if (t.startsWith('options') && options.length === 0) {
      out.push(t);
    }
  }
  if (servers.length === 0) servers.push('8.8.8.8', '8.8.4.4');
  if (search.length > 0) out.push(`search ${search.join(' ')}`);
  if (options.length > 0) out.push(`options ${options.join(' ')}`);
  return `${[...servers.map((s) => `nameserver ${s}`), ...out].join('\n')}\n`;
}
