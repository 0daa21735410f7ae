/** `hako inspect` (containers, then images), `hako container inspect`, `hako image inspect`. */
import type { Command } from '../command.js';
import type { Client } from '../../client/index.js';
import type { Flags } from '../flags.js';
import type { Cli } from '../cli.js';
import { StatusError } from '../errors.js';
import { printInspected, unless404 } from '../render.js';

type Kind = 'container' | 'image' | 'network';

const formatFlag = {
  name: 'format', short: 'f', kind: 'string' as const,
  usage: "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates",
};

async function fetchOne(client: Client, ref: string, kind: Kind, size: boolean): Promise<unknown> {
  if (kind === 'network') return client.networkInspect(ref);
  return kind === 'container' ? client.containerInspect(ref, { size }) : client.imageInspect(ref);
}

async function inspectAll(cli: Cli, flags: Flags, refs: string[], kinds: Kind[], missing: (ref: string) => string): Promise<number> {
  const client = await cli.client();
  await printInspected(cli.stdout, refs, flags.string('format'), async (ref) => {
    for (const kind of kinds) {
      const obj = await unless404(fetchOne(client, ref, kind, flags.bool('size')));
      if (obj !== undefined) return obj;
    }
    return undefined;
  }, missing);
  return 0;
}

export const inspect: Command = {
  spec: {
    use: '[OPTIONS] NAME|ID [NAME|ID...]',
    short: 'Return low-level information on hako objects',
    flags: [
      formatFlag,
      { name: 'size', short: 's', kind: 'bool', usage: 'Display total file sizes if the type is container' },
      { name: 'type', kind: 'string', usage: 'Only inspect objects of the given type' },
    ],
    args: { min: 1 },
  },
  async run(cli, flags, args) {
    const type = flags.string('type');
    const all: Kind[] = ['container', 'image', 'network'];
    if (type && !['container', 'image', 'network', 'volume', 'node', 'service', 'task', 'plugin', 'secret', 'config'].includes(type)) {
      throw new StatusError(1, `"${type}" is not a valid value for --type`);
    }
    const kinds = type ? all.filter((k) => k === type) : all;
    return inspectAll(cli, flags, args, kinds, (ref) => `Error: No such object: ${ref}`);
  },
};

export const containerInspect: Command = {
  spec: {
    use: '[OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Display detailed information on one or more containers',
    flags: [formatFlag, { name: 'size', short: 's', kind: 'bool', usage: 'Display total file sizes' }],
    args: { min: 1 },
  },
  run: (cli, flags, args) => inspectAll(cli, flags, args, ['container'], (ref) => `Error: No such container: ${ref}`),
};

export const imageInspect: Command = {
  spec: {
    use: '[OPTIONS] IMAGE [IMAGE...]',
    short: 'Display detailed information on one or more images',
    flags: [formatFlag],
    args: { min: 1 },
  },
  run: (cli, flags, args) => inspectAll(cli, flags, args, ['image'], (ref) => `Error: No such image: ${ref}`),
};
