/** `hako rmi` / `hako image rm`. */
import type { Command } from '../command.js';
import { errorText } from '../containers.js';

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
    const errors: string[] = [];
    for (const ref of args) {
      try {
        const items = await client.imageRemove(ref, { force: flags.bool('force'), noprune: flags.bool('no-prune') });
        for (const it of items ?? []) {
          if (it.Untagged) cli.out(`Untagged: ${it.Untagged}`);
          if (it.Deleted) cli.out(`Deleted: ${it.Deleted}`);
        }
      } catch (e) {
        // rmi -f of an image that is not there is not an error (docker 28).
        if (flags.bool('force') && (e as { status?: number }).status === 404) continue;
        errors.push(errorText(e));
      }
    }
    if (errors.length) {
      cli.err(errors.join('\n'));
      return 1;
    }
  },
};
