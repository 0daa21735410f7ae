/** `hako port CONTAINER [PRIVATE_PORT[/PROTO]]`: the published ports. */
import type { Command } from '../command.js';
import { StatusError } from '../errors.js';

type Bindings = Record<string, Array<{ HostIp: string; HostPort: string }> | null>;

function hostPort(b: { HostIp: string; HostPort: string }): string {
  const ip = b.HostIp || '0.0.0.0';
  return `${ip.includes(':') ? `[${ip}]` : ip}:${b.HostPort}`;
}

export const port: Command = {
  spec: {
    use: 'CONTAINER [PRIVATE_PORT[/PROTO]]',
    short: 'List port mappings or a specific mapping for the container',
    aliases: 'hako container port, hako port',
    flags: [],
    args: { min: 1, max: 2 },
  },
  async run(cli, _flags, args) {
    const client = await cli.client();
    const c = await client.containerInspect(args[0] as string);
    const ports = ((c['NetworkSettings'] as { Ports?: Bindings } | undefined)?.Ports ?? {}) as Bindings;
    if (args[1]) {
      const [p, proto = 'tcp'] = args[1].split('/');
      const key = `${p}/${proto}`;
      const bindings = ports[key];
      if (!bindings?.length) throw new StatusError(1, `Error: No public port '${args[1]}' published for ${args[0]}`);
      for (const b of bindings) cli.out(hostPort(b));
      return;
    }
    const keys = Object.keys(ports).sort((a, b) => parseInt(a, 10) - parseInt(b, 10) || a.localeCompare(b));
    for (const k of keys) for (const b of ports[k] ?? []) cli.out(`${k} -> ${hostPort(b)}`);
  },
};
