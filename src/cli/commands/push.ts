/** `hako push NAME[:TAG]`: uploads an image to its registry, with the credentials `hako login` stored. */
import type { Command } from '../command.js';
import { registryAuthHeader } from '../credentials.js';
import { displayProgress } from '../progress.js';
import { nullWriter } from '../io.js';
import { splitRepoTag, validateReference } from '../refs.js';
import { StatusError } from '../errors.js';

export const push: Command = {
  spec: {
    use: '[OPTIONS] NAME[:TAG]',
    short: 'Upload an image to a registry',
    aliases: 'hako image push, hako push',
    flags: [
      { name: 'all-tags', short: 'a', kind: 'bool', usage: 'Push all tags of an image to the repository' },
      { name: 'platform', kind: 'string', usage: 'Push a platform-specific manifest as a single-platform image to the registry' },
      { name: 'quiet', short: 'q', kind: 'bool', usage: 'Suppress verbose output' },
    ],
    args: { min: 1, max: 1 },
  },
  async run(cli, flags, args) {
    const ref = args[0] as string;
    const bad = validateReference(ref);
    if (bad) throw new StatusError(1, bad);
    if (flags.string('platform')) throw new StatusError(1, '--platform is not supported: hako stores one platform per image, push it by tag');
    const [repo, tag] = splitRepoTag(ref);
    if (flags.bool('all-tags') && tag) throw new StatusError(1, 'tag can\'t be used with --all-tags/-a');
    if (!flags.bool('all-tags') && !tag) cli.out('Using default tag: latest');
    const client = await cli.client();
    const res = await client.imagePush(repo, { tag: flags.bool('all-tags') ? undefined : tag || 'latest', registryAuth: registryAuthHeader(repo) });
    const quiet = flags.bool('quiet');
    await displayProgress(res, quiet ? nullWriter() : cli.stdout, { tty: Boolean(cli.stdout.isTTY) });
    if (quiet) cli.out(flags.bool('all-tags') ? repo : `${repo}:${tag || 'latest'}`);
  },
};
