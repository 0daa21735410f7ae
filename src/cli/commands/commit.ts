/** `hako commit CONTAINER [REPOSITORY[:TAG]]`: prints the new image id. */
import type { Command } from '../command.js';
import { optionalRepoTag } from '../refs.js';

export const commit: Command = {
  spec: {
    use: '[OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
    short: "Create a new image from a container's changes",
    aliases: 'hako container commit, hako commit',
    flags: [
      { name: 'author', short: 'a', kind: 'string', usage: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
      { name: 'change', short: 'c', kind: 'stringArray', valueName: 'list', usage: 'Apply Dockerfile instruction to the created image' },
      { name: 'message', short: 'm', kind: 'string', usage: 'Commit message' },
      { name: 'pause', short: 'p', kind: 'bool', default: true, usage: 'Pause container during commit' },
    ],
    args: { min: 1, max: 2 },
  },
  async run(cli, flags, args) {
    const [container, ref] = args as [string, string | undefined];
    const { repo, tag } = optionalRepoTag(ref);
    const client = await cli.client();
    const res = await client.commit({
      container, repo, tag, comment: flags.string('message') || undefined,
      author: flags.string('author') || undefined, changes: flags.array('change'), pause: flags.bool('pause'),
    });
    cli.out(res.Id);
  },
};
