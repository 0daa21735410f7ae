/** `hako pull NAME[:TAG|@DIGEST]`. */
import type { Command } from '../command.js';
import { pullImage, withDefaultTag } from '../containers.js';

export const pull: Command = {
  spec: {
    use: '[OPTIONS] NAME[:TAG|@DIGEST]',
    short: 'Download an image from a registry',
    aliases: 'hako image pull, hako pull',
    flags: [
      { name: 'all-tags', short: 'a', kind: 'bool', usage: 'Download all tagged images in the repository' },
      { name: 'platform', kind: 'string', usage: 'Set platform if server is multi-platform capable' },
      { name: 'quiet', short: 'q', kind: 'bool', usage: 'Suppress verbose output' },
    ],
    args: { min: 1, max: 1 },
  },
  async run(cli, flags, args) {
    const ref = args[0] as string;
    const client = await cli.client();
    if (!ref.includes(':') && !ref.includes('@') && !flags.bool('all-tags')) cli.out('Using default tag: latest');
    await pullImage(cli, client, ref, { quiet: flags.bool('quiet'), platform: flags.string('platform') || undefined, out: cli.stdout });
    if (flags.bool('quiet')) cli.out(withDefaultTag(ref));
  },
};
