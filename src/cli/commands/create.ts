/** `hako create`: the container, not started; prints its id. */
import type { Command } from '../command.js';
import { CONTAINER_FLAGS } from '../containeropts.js';
import { createContainer, toStatusError } from '../containers.js';
import { bodyFromFlags } from './run.js';

export const create: Command = {
  spec: {
    use: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
    short: 'Create a new container',
    aliases: 'hako container create, hako create',
    flags: CONTAINER_FLAGS,
    args: { min: 1 },
    interspersed: false,
  },
  async run(cli, flags, args) {
    const body = bodyFromFlags(cli, flags, args, false);
    try {
      const client = await cli.client();
      const id = await createContainer(cli, client, body, {
        name: flags.string('name'), platform: flags.string('platform'), pull: flags.string('pull'),
        quiet: flags.bool('quiet'), cidfile: flags.string('cidfile'),
      });
      cli.out(id);
    } catch (e) {
      throw toStatusError(e, cli.commandPath);
    }
  },
};
