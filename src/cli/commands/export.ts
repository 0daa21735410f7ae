/** `hako export`: the container's filesystem as a tar, on stdout or in a file (-o). */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Command } from '../command.js';
import { StatusError } from '../errors.js';

export const exportCmd: Command = {
  spec: {
    use: '[OPTIONS] CONTAINER',
    short: "Export a container's filesystem as a tar archive",
    aliases: 'hako container export, hako export',
    flags: [{ name: 'output', short: 'o', kind: 'string', usage: 'Write to a file, instead of STDOUT' }],
    args: { min: 1, max: 1 },
  },
  async run(cli, flags, args) {
    const output = flags.string('output');
    if (!output && cli.stdout.isTTY) {
      throw new StatusError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
    }
    const client = await cli.client();
    const tar = await client.containerExport(args[0] as string);
    if (output) await pipeline(tar, createWriteStream(output));
    else await pipeline(tar, cli.stdout, { end: false });
  },
};
