/** `hako diff`: A/C/D lines for the container's filesystem changes. */
import type { Command } from '../command.js';

const KIND = ['C', 'A', 'D'];

export const diff: Command = {
  spec: {
    use: 'CONTAINER',
    short: "Inspect changes to files or directories on a container's filesystem",
    aliases: 'hako container diff, hako diff',
    flags: [],
    args: { min: 1, max: 1 },
  },
  async run(cli, _flags, args) {
    const client = await cli.client();
    const changes = (await client.containerChanges(args[0] as string)) ?? [];
    for (const c of changes) cli.out(`${KIND[c.Kind] ?? '?'} ${c.Path}`);
  },
};
