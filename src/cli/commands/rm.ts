/** `hako rm`: remove containers (-f kills running ones, -v their anonymous volumes). */
import type { Command } from '../command.js';
import { forEachName } from '../containers.js';
import { isNotFound } from '../errors.js';

export const rm: Command = {
  spec: {
    use: '[OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Remove one or more containers',
    aliases: 'hako container rm, hako container remove, hako rm',
    flags: [
      { name: 'force', short: 'f', kind: 'bool', usage: 'Force the removal of a running container (uses SIGKILL)' },
      { name: 'link', short: 'l', kind: 'bool', usage: 'Remove the specified link' },
      { name: 'volumes', short: 'v', kind: 'bool', usage: 'Remove anonymous volumes associated with the container' },
    ],
    args: { min: 1 },
  },
  async run(cli, flags, args) {
    const client = await cli.client();
    const force = flags.bool('force');
    let failed = false;
    const code = await forEachName(cli, args.map((a) => a.replace(/^\//, '')), async (n) => {
      try {
        await client.containerRemove(n, { force, volumes: flags.bool('volumes'), link: flags.bool('link') });
      } catch (e) {
        // docker rm -f ignores containers that are already gone.
        if (force && isNotFound(e)) return;
        failed = true;
        throw e;
      }
    });
    return failed ? 1 : code;
  },
};
