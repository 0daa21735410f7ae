/** `hako save`: images to a tar archive, on stdout or in a file (-o). */
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Command } from '../command.js';
import { StatusError } from '../errors.js';

export const save: Command = {
  spec: {
    use: '[OPTIONS] IMAGE [IMAGE...]',
    short: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
    aliases: 'hako image save, hako save',
    flags: [
      { name: 'output', short: 'o', kind: 'string', usage: 'Write to a file, instead of STDOUT' },
      { name: 'platform', kind: 'stringArray', valueName: 'stringSlice', usage: 'Save only the given platform(s)' },
    ],
    args: { min: 1 },
  },
  async run(cli, flags, args) {
    const output = flags.string('output');
    if (!output && cli.stdout.isTTY) {
      throw new StatusError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
    }
    const client = await cli.client();
    const res = await client.imageSave(args);
    if (!output) {
      await pipeline(res, cli.stdout, { end: false });
      return;
    }
    // Like docker's CopyToFile: write next to the target, then rename, so a failure leaves no half file.
    const tmp = join(dirname(output), `.${basename(output)}.hako-${process.pid}`);
    try {
      await pipeline(res, createWriteStream(tmp));
      renameSync(tmp, output);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw new StatusError(1, `failed to save image: ${(e as Error).message}`);
    }
  },
};
