/** `hako tag SOURCE TARGET`. */
import type { Command } from '../command.js';
import { splitRepoTag, validateReference } from '../refs.js';
import { StatusError } from '../errors.js';

export const tag: Command = {
  spec: {
    use: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
    short: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
    aliases: 'hako image tag, hako tag',
    flags: [],
    args: { min: 2, max: 2 },
  },
  async run(cli, _flags, args) {
    const [source, target] = args as [string, string];
    const bad = validateReference(target);
    if (bad) throw new StatusError(1, bad);
    const [repo, t] = splitRepoTag(target);
    const client = await cli.client();
    await client.imageTag(source, repo, t || 'latest');
  },
};
