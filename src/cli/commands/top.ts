/** `hako top CONTAINER [ps OPTIONS]`. */
import type { Command } from '../command.js';
import { alignTable } from '../render.js';

export const top: Command = {
  spec: {
    use: 'CONTAINER [ps OPTIONS]',
    short: 'Display the running processes of a container',
    aliases: 'hako container top, hako top',
    flags: [],
    args: { min: 1 },
    interspersed: false,
  },
  async run(cli, _flags, args) {
    const client = await cli.client();
    const [id, ...psArgs] = args as [string, ...string[]];
    const res = await client.containerTop(id, psArgs.length ? psArgs.join(' ') : undefined);
    // docker: tabwriter.NewWriter(out, 20, 1, 3, ' ', 0)
    const lines = [res.Titles.join('\t'), ...(res.Processes ?? []).map((p) => p.join('\t'))];
    cli.stdout.write(alignTable(lines, 20));
  },
};
