/** `hako load`: images from a docker-archive/OCI tarball (file or stdin). */
import type { Command } from '../command.js';
import { displayProgress } from '../progress.js';
import { StatusError } from '../errors.js';
import { openInput, nullWriter } from '../io.js';

export const load: Command = {
  spec: {
    use: '[OPTIONS]',
    short: 'Load an image from a tar archive or STDIN',
    aliases: 'hako image load, hako load',
    flags: [
      { name: 'input', short: 'i', kind: 'string', usage: 'Read from tar archive file, instead of STDIN' },
      { name: 'platform', kind: 'stringArray', valueName: 'stringSlice', usage: 'Load only the given platform(s)' },
      { name: 'quiet', short: 'q', kind: 'bool', usage: 'Suppress the load output' },
    ],
    args: { max: 0 },
  },
  async run(cli, flags) {
    const input = flags.string('input');
    if (!input && cli.stdin.isTTY) throw new StatusError(1, 'requested load from stdin, but stdin is empty');
    const tar = input ? await openInput(input) : cli.stdin;
    const client = await cli.client();
    // docker always asks for quiet output when stdout is not a terminal (no progress bars).
    const res = await client.imageLoad(tar, { quiet: flags.bool('quiet') || !cli.stdout.isTTY });
    await displayProgress(res, flags.bool('quiet') ? nullWriter() : cli.stdout, { tty: Boolean(cli.stdout.isTTY) });
  },
};

