/** `hako rmi` / `hako image rm`. */
import type { Command } from '../command.js';
import { errorsOfEach } from '../containers.js';
import { isNotFound } from '../errors.js';

export const rmi: Command = {
  spec: {
    use: '[OPTIONS] IMAGE [IMAGE...]',
    short: 'Remove one or more images',
    aliases: 'hako image rm, hako image remove, hako rmi',
    flags: [
      { name: 'force', short: 'f', kind: 'bool', usage: 'Force removal of the image' },
      { name: 'no-prune', kind: 'bool', usage: 'Do not delete untagged parents' },
    ],
    args: { min: 1 },
  },
  async run(cli, flags, args) {
    const client = await cli.client();
    // rmi -f of an image that is not there is not an error (docker 28).
    const missingIsFine = (e: unknown): boolean => flags.bool('force') && isNotFound(e);
    const errors = await errorsOfEach(args, async (ref) => {
      const items = await client.imageRemove(ref, { force: flags.bool('force'), noprune: flags.bool('no-prune') });
      for (const it of items ?? []) {
        if (it.Untagged) cli.out(`Untagged: ${it.Untagged}`);
        if (it.Deleted) cli.out(`Deleted: ${it.Deleted}`);
      }
    }, missingIsFine);
    if (errors.length) {
      cli.err(errors.join('\n'));
      return 1;
    }
  },
};
