/** `hako pull NAME[:TAG|@DIGEST]`. */
import type { Command } from '../command.js';
import { pullImage, withDefaultTag } from '../containers.js';
import { registryAuthHeader } from '../credentials.js';
import { displayProgress } from '../progress.js';
import { nullWriter } from '../io.js';
import { splitRepoTag } from '../refs.js';
import { StatusError } from '../errors.js';

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
    const quiet = flags.bool('quiet');
    if (flags.bool('all-tags')) {
      const [repo, tag] = splitRepoTag(ref);
      if (tag || ref.includes('@')) throw new StatusError(1, 'tag can\'t be used with --all-tags/-a');
      // A name without tag asks the daemon for every tag.
      const res = await client.imagePull(repo, undefined, { platform: flags.string('platform') || undefined, registryAuth: registryAuthHeader(repo) });
      await displayProgress(res, quiet ? nullWriter() : cli.stdout, { tty: Boolean(cli.stdout.isTTY) });
      if (quiet) cli.out(repo);
      return;
    }
    if (!splitRepoTag(ref)[1] && !ref.includes('@') && !quiet) cli.out('Using default tag: latest');
    await pullImage(cli, client, ref, { quiet, platform: flags.string('platform') || undefined, out: cli.stdout });
    if (quiet) cli.out(withDefaultTag(ref));
  },
};
