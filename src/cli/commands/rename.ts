/** `hako rename`. */
import type { Command } from '../command.js';
import { StatusError } from '../errors.js';
import { errorText } from '../containers.js';

export const rename: Command = {
  spec: {
    use: 'CONTAINER NEW_NAME',
    short: 'Rename a container',
    aliases: 'hako container rename, hako rename',
    flags: [],
    args: { min: 2, max: 2 },
  },
  async run(cli, _flags, args) {
    const [oldName, newName] = args as [string, string];
    const client = await cli.client();
    try {
      await client.containerRename(oldName, newName);
    } catch (e) {
      throw new StatusError(1, `failed to rename container: ${errorText(e)}`);
    }
  },
};
